"""Connector tasks: take ids, enter the user's context, call one service."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apps.connectors.base import TokenRevoked
from apps.connectors.services import (
    REFRESH_AHEAD,
    connection_sync_or_dead_letter,
    connection_token_refresh,
    connections_active,
    connections_expiring,
)
from apps.core.db.context import system_context, user_context
from apps.core.retry import datapunk_task
from apps.stream.outbound import TRANSIENT_ERRORS, OutboundError

logger = logging.getLogger(__name__)


@datapunk_task()
def sync_connection(user_id: int, connection_id: int) -> None:
    """Sync one connection; failures worth a retry land in the dead-letter table."""
    with user_context(user_id):
        connection_sync_or_dead_letter(connection_id=connection_id)


@datapunk_task()
def refresh_connection_token(user_id: int, connection_id: int) -> None:
    """Refresh one token ahead of its expiry. A revoked grant is noted on the row."""
    with user_context(user_id):
        try:
            connection_token_refresh(connection_id=connection_id, ahead=REFRESH_AHEAD)
        except (TokenRevoked, OutboundError, *TRANSIENT_ERRORS) as exc:
            # Not retried here: the next beat run (30 min) tries again, and a
            # sync refreshes on demand before it calls the provider.
            logger.info("token refresh of connection %s failed: %s", connection_id, exc)


@datapunk_task()
def refresh_expiring_tokens() -> int:
    """Beat, every 30 minutes: queue a refresh per token expiring within 35 minutes."""
    return _queue_each(refresh_connection_token, connections_expiring)


@datapunk_task()
def sync_all_connections() -> int:
    """Beat: queue a sync per active connection."""
    return _queue_each(sync_connection, connections_active)


def _queue_each(task: Any, select: Callable[[], list[tuple[int, int]]]) -> int:
    """Queue ``task(user_id, connection_id)`` for each pair ``select`` finds across users."""
    with system_context():
        pairs = select()
    for user_id, connection_id in pairs:
        task.delay(user_id, connection_id)
    return len(pairs)
