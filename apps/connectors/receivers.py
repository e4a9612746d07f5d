"""What the connectors do when other apps' signals fire."""

from __future__ import annotations

import logging
from typing import Any

from apps.connectors.models import Connection
from apps.connectors.services import connection_disconnect
from apps.core.queueing import queue_after_commit
from apps.privacy.audit import audit_connector_consent

logger = logging.getLogger(__name__)


def connections_revoke_for_deletion(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    """Delete-my-data: each connection that still holds tokens is revoked at its
    provider before the rows go (the provider would otherwise keep the grant).

    Idempotent: a revoked connection holds no tokens and is passed over.
    Best effort per provider, as a disconnect is: the tokens go whatever it answers.
    """
    holding = (
        Connection.objects.filter(user_id=user_id)
        .exclude(access_token_sealed="", refresh_token_sealed="")
        .order_by("pk")
    )
    for conn in holding:
        disconnected = connection_disconnect(connection_id=conn.pk, actor_id=user_id)
        audit_connector_consent(user_id=user_id, provider=conn.provider, granted=False)
        if disconnected.last_error:
            logger.warning("delete-my-data: %s", disconnected.last_error)


def push_subscription_event_queue(
    sender: Any,
    *,
    user_id: int,
    connection_id: int | None,
    subscription_id: int,
    event: str,
    **kwargs: Any,
) -> None:
    """A provider's word on a subscription a connector made: handled by a task
    (it calls the provider), never in the webhook's request."""
    if connection_id is None:
        return
    from apps.connectors.tasks import push_subscription_event

    queue_after_commit(push_subscription_event, user_id, connection_id, subscription_id, event)
