"""Push subscriptions (webhooks) of the connectors that offer them: made, renewed
and ended here; delivered to apps/stream/webhooks/.

Graph change notifications expire within 7 days and are renewed by the beat
task (``webhook_subscriptions_maintain``); Twitch EventSub subscriptions do not
expire but can be revoked. Without an https:// DATAPUNK_PUBLIC_URL nothing is
subscribed and the connectors poll as they always do. Polling goes on with
push too: a notification only brings the next sync forward, and a sync is
what reads (delta queries catch up whatever a notification missed).

Runs as the connection's user (the caller enters user_context).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.connectors.base import Connector, ConnectorError, PushContext, TokenRevoked
from apps.connectors.models import Connection
from apps.connectors.registry import connector_for
from apps.connectors.services import connection_api
from apps.core.sealing import SealBroken
from apps.stream.models import WebhookSubscription
from apps.stream.outbound import TRANSIENT_ERRORS, ClientError, OutboundError
from apps.stream.services import webhook_subscription_create, webhook_subscription_mark

logger = logging.getLogger(__name__)

LIVE = (WebhookSubscription.Status.PENDING, WebhookSubscription.Status.ENABLED)
# Twitch's revocations after which subscribing again is pointless: the user
# took the authorization back, or the account is gone.
FINAL_REVOCATIONS = ("authorization_revoked", "user_removed")
# A subscription still pending after this was never verified (Twitch sends its
# challenge within seconds of the creation).
VERIFICATION_WAIT = timedelta(hours=1)
PUSH_ERRORS = (OutboundError, *TRANSIENT_ERRORS, ConnectorError, SealBroken)


def public_url() -> str:
    """DATAPUNK_PUBLIC_URL if it is an https:// address, else "" (providers
    deliver to HTTPS only: Graph requires it, Twitch wants port 443)."""
    base = (getattr(settings, "DATAPUNK_PUBLIC_URL", "") or "").strip().rstrip("/")
    return base if base.startswith("https://") and len(base) > len("https://") else ""


def push_callback(provider: str) -> str:
    """Where ``provider`` delivers, or "" when there is no public HTTPS address."""
    base = public_url()
    return f"{base}{reverse(f'webhook-{provider}')}" if base else ""


def polling_reason() -> str:
    """Why push is off on this server ("" when it is on), as the connections page says it."""
    raw = (getattr(settings, "DATAPUNK_PUBLIC_URL", "") or "").strip()
    if public_url():
        return ""
    if not raw:
        return "DATAPUNK_PUBLIC_URL is not set"
    return f"DATAPUNK_PUBLIC_URL ({raw[:80]}) is not an https:// address"


@dataclass(slots=True)
class PushResult:
    created: int = 0
    renewed: int = 0
    removed: int = 0
    notes: list[str] = field(default_factory=list)


def _context(conn: Connection) -> PushContext:
    api = connection_api(conn)
    return PushContext(api=api, app=api.app, connection_id=conn.pk, external_id=conn.external_id)


def _subscribe(
    conn: Connection, connector: Connector, push: PushContext, topic: str, callback: str
) -> None:
    # 32 random bytes: within Twitch's 10-100 characters and Graph's 128 for clientState.
    secret = secrets.token_urlsafe(32)
    made = connector.push_subscribe(push, topic=topic, callback=callback, secret=secret)
    webhook_subscription_create(
        user_id=conn.user_id,
        provider=conn.provider,
        external_id=made.external_id,
        secret=secret,
        topic=topic,
        status=made.status,
        expires_at=made.expires_at,
        connection_id=conn.pk,
    )


def connection_push_ensure(
    *, connection_id: int, now: datetime | None = None, renew: int | None = None
) -> PushResult:
    """Make the subscriptions a connection lacks; renew those expiring soon
    (and ``renew``, a subscription's pk, whatever its expiry).

    Idempotent: a topic with a live subscription is not subscribed again. A
    subscription the provider no longer knows (renewal answered 404) or that
    expired is marked revoked and made afresh. What failed is kept on the
    connection (``push_error``, shown on the connections page); the rest goes on.
    """
    result = PushResult()
    conn = Connection.objects.filter(pk=connection_id).first()
    if conn is None or conn.status != Connection.Status.ACTIVE:
        return result
    connector = connector_for(conn.provider)
    if not connector.push_topics:
        return result
    callback = push_callback(conn.provider)
    if not callback:
        result.notes.append(f"push is off ({polling_reason()}): polling")
        return result
    now = now or timezone.now()
    live = {
        s.topic: s
        for s in WebhookSubscription.objects.filter(connection_id=conn.pk, status__in=LIVE)
    }
    errors: list[str] = []
    push: PushContext | None = None
    try:
        push = _context(conn)
        for topic in connector.push_topics:
            current = live.get(topic)
            try:
                if (
                    current is not None
                    and current.status == WebhookSubscription.Status.PENDING
                    and current.created_at <= now - VERIFICATION_WAIT
                ):
                    # The challenge never came or was not answered (say it arrived
                    # before the row was stored): end it there and subscribe again.
                    try:
                        connector.push_unsubscribe(push, external_id=current.external_id)
                    except ClientError as exc:
                        if exc.status != 404:
                            raise
                    webhook_subscription_mark(
                        subscription_id=current.pk,
                        status=WebhookSubscription.Status.REVOKED,
                        reason="never verified",
                    )
                    current = None
                if current is not None and current.expires_at and current.expires_at <= now:
                    webhook_subscription_mark(
                        subscription_id=current.pk,
                        status=WebhookSubscription.Status.REVOKED,
                        reason="expired",
                    )
                    current = None
                due = (
                    current is not None
                    and current.expires_at is not None
                    and connector.push_renew_ahead is not None
                    and (
                        current.pk == renew
                        or current.expires_at - now <= connector.push_renew_ahead
                    )
                )
                if current is not None and due:
                    try:
                        expires_at = connector.push_renew(push, external_id=current.external_id)
                    except ClientError as exc:
                        if exc.status != 404:
                            raise
                        webhook_subscription_mark(
                            subscription_id=current.pk,
                            status=WebhookSubscription.Status.REVOKED,
                            reason="gone at the provider",
                        )
                        current = None
                    else:
                        WebhookSubscription.objects.filter(pk=current.pk).update(
                            expires_at=expires_at, updated_at=timezone.now()
                        )
                        result.renewed += 1
                if current is None:
                    _subscribe(conn, connector, push, topic, callback)
                    result.created += 1
            except ClientError as exc:
                # This topic refused (a 4xx): the others are still tried.
                errors.append(f"{topic}: {exc}")
    except TokenRevoked as exc:
        errors.append(str(exc))
    except PUSH_ERRORS as exc:
        errors.append(str(exc))
    message = "; ".join(errors)[:2000]
    Connection.objects.filter(pk=conn.pk).update(push_error=message)
    if errors:
        logger.info("push subscriptions of connection %s: %s", conn.pk, message)
    result.notes += errors
    return result


def connection_push_remove(*, connection_id: int) -> str:
    """Delete every subscription of a connection at its provider, then here.

    Best effort, as a disconnect is: a subscription the provider would not
    delete is kept here as revoked (its deliveries are refused) and the
    returned note says so; "" when all went. Idempotent.
    """
    conn = Connection.objects.filter(pk=connection_id).first()
    if conn is None:
        return ""
    subscriptions = list(WebhookSubscription.objects.filter(connection_id=conn.pk).order_by("pk"))
    if not subscriptions:
        return ""
    connector = connector_for(conn.provider)
    failed: list[str] = []
    push: PushContext | None = None
    for subscription in subscriptions:
        problem = ""
        if subscription.status in LIVE:
            try:
                push = push or _context(conn)
                connector.push_unsubscribe(push, external_id=subscription.external_id)
            except ClientError as exc:
                if exc.status != 404:  # 404: already gone there
                    problem = f"{subscription.topic}: {exc}"
            except PUSH_ERRORS as exc:
                problem = f"{subscription.topic}: {exc}"
        if problem:
            failed.append(problem)
            webhook_subscription_mark(
                subscription_id=subscription.pk,
                status=WebhookSubscription.Status.REVOKED,
                reason="disconnected (the provider could not be told)",
            )
        else:
            subscription.delete()
    if not failed:
        return ""
    return (
        f"{connector.push_label} could not be ended at {connector.label} "
        f"({'; '.join(failed)[:500]}); its deliveries are refused here."
    )


def connections_with_push() -> list[tuple[int, int]]:
    """(user_id, connection_id) of the active connections whose connector
    offers push (caller: system_context())."""
    providers = [c.provider for c in _push_connectors()]
    return list(
        Connection.objects.filter(
            status=Connection.Status.ACTIVE, provider__in=providers
        ).values_list("user_id", "pk")
    )


def _push_connectors() -> list[Connector]:
    from apps.connectors.registry import CONNECTORS

    return [c for c in CONNECTORS.values() if c.push_topics]


def push_event_handle(*, connection_id: int, subscription_id: int, event: str) -> None:
    """Act on what a provider said of a subscription (apps.stream's
    push_subscription_event): renew, make again, and sync.

    - Graph "reauthorizationRequired": renew it now (Graph's documented answer).
    - Graph "subscriptionRemoved", Twitch "revoked:<reason>" (except the user's
      own revocation): subscribe again.
    - Graph "missed", "subscriptionRemoved", "reauthorizationRequired", "changed":
      sync now; the delta query reads whatever the notifications did not say.
    Idempotent: ensure and sync are.
    """
    from apps.connectors.services import connection_sync_or_dead_letter

    if event == "reauthorizationRequired":
        connection_push_ensure(connection_id=connection_id, renew=subscription_id)
    elif event == "subscriptionRemoved" or (
        event.startswith("revoked:") and event.split(":", 1)[1] not in FINAL_REVOCATIONS
    ):
        connection_push_ensure(connection_id=connection_id)
    if not event.startswith("revoked:"):
        connection_sync_or_dead_letter(connection_id=connection_id)
