"""Connector tasks: take ids, enter the user's context, call one service."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from apps.connectors.base import TokenRevoked
from apps.connectors.push import (
    connection_push_ensure,
    connections_with_push,
    push_event_handle,
)
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


@datapunk_task()
def webhook_subscriptions_maintain() -> int:
    """Beat, hourly: each connection that offers push gets its missing
    subscriptions made and those expiring within two days renewed (Graph's
    last 7 days at most). Without an https:// DATAPUNK_PUBLIC_URL it makes
    none. Runs in line: a person's server has a handful of connections.
    Returns how many were made or renewed."""
    with system_context():
        pairs = connections_with_push()
    done = 0
    for user_id, connection_id in pairs:
        with user_context(user_id):
            result = connection_push_ensure(connection_id=connection_id)
        done += result.created + result.renewed
    return done


@datapunk_task()
def ensure_push_subscriptions(user_id: int, connection_id: int) -> None:
    """Right after a consent: subscribe at once rather than at the next beat run."""
    with user_context(user_id):
        connection_push_ensure(connection_id=connection_id)


@datapunk_task()
def push_subscription_event(
    user_id: int, connection_id: int, subscription_id: int, event: str
) -> None:
    """A provider's word on a push subscription: renew, subscribe again, sync."""
    with user_context(user_id):
        push_event_handle(connection_id=connection_id, subscription_id=subscription_id, event=event)
