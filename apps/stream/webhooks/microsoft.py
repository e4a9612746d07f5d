"""Microsoft Graph change notifications: the validation handshake, the
clientState check, and one event per change.

Documented at https://learn.microsoft.com/graph/change-notifications-delivery-webhooks:
on subscribing, Graph POSTs with ``?validationToken=...`` and expects the token
back as text/plain within 10 seconds; later it POSTs ``{"value": [...]}``
where each notification carries the ``clientState`` given when subscribing.
Graph retries what is not acknowledged, so a redelivered notification is
acknowledged again but stored once.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import transaction

from apps.core.db.context import system_context, user_context
from apps.core.sealing import SealBroken
from apps.lake.normalize import canonical_json
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord, Provenance
from apps.stream.models import InboundDelivery, WebhookSubscription
from apps.stream.services import (
    AlreadyDelivered,
    delivery_claim,
    push_subscription_event_send,
    webhook_subscription_mark,
)
from apps.stream.webhooks.twitch import DeliveryRefused

SOURCE = "microsoft"
CONNECTOR = "graph.webhook"
MAX_BODY = 1024 * 1024
MAX_VALIDATION_TOKEN = 4096
# Lifecycle notifications (learn.microsoft.com/graph/change-notifications-lifecycle-events):
# no change of their own, a word on the subscription that the connector acts on.
LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")


@dataclass(frozen=True, slots=True)
class GraphOutcome:
    written: int = 0
    duplicate: int = 0


def graph_notifications_receive(*, body: bytes, now: datetime) -> GraphOutcome:
    """Check every notification's clientState, then store each change once.

    All or nothing: one notification with an unknown subscription or a wrong
    clientState refuses the whole delivery (403), since Graph never sends one.
    """
    try:
        payload = orjson.loads(body)
        notifications = payload["value"]
        if not isinstance(notifications, list) or not all(
            isinstance(n, dict) and isinstance(n.get("subscriptionId"), str) for n in notifications
        ):
            raise TypeError
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise DeliveryRefused(
            'The body is not a Graph notification collection ({"value": [...]}).', 400
        ) from None
    ids = {n["subscriptionId"] for n in notifications}
    with system_context():  # the subscriptions say whose the notifications are
        subscriptions = {
            s.external_id: s
            for s in WebhookSubscription.objects.filter(
                provider=WebhookSubscription.Provider.MICROSOFT, external_id__in=ids
            )
        }
    subscriptions_by_pk = {s.pk: s for s in subscriptions.values()}
    by_user: dict[int, list[tuple[WebhookSubscription, dict[str, Any]]]] = defaultdict(list)
    for notification in notifications:
        subscription = subscriptions.get(notification["subscriptionId"])
        state = notification.get("clientState")
        if (
            subscription is None
            or not isinstance(state, str)
            or not hmac.compare_digest(state.encode(), _client_state(subscription).encode())
        ):
            raise DeliveryRefused("A notification's clientState does not match.", 403)
        if (
            subscription.status != WebhookSubscription.Status.ENABLED
            and notification.get("lifecycleEvent") not in LIFECYCLE_EVENTS
        ):
            # Revoked (or never confirmed as created): what it sends is not stored.
            raise DeliveryRefused(
                f"Subscription {subscription.external_id[:60]} is {subscription.status}: "
                "its notifications are not stored.",
                410 if subscription.status == WebhookSubscription.Status.REVOKED else 403,
            )
        by_user[subscription.user_id].append((subscription, notification))

    outcome = GraphOutcome()
    for user_id, items in by_user.items():
        with user_context(user_id), transaction.atomic():
            records = []
            duplicate = 0
            told: set[tuple[int, str]] = set()  # (subscription, event) said once per delivery
            for subscription, notification in items:
                lifecycle = notification.get("lifecycleEvent")
                # Graph gives no message id: the notification's own content is
                # one (a redelivery is byte-for-byte the same change).
                identity = hashlib.sha256(canonical_json(notification).encode()).hexdigest()
                try:
                    delivery_claim(
                        user_id=user_id,
                        channel=InboundDelivery.Channel.MICROSOFT,
                        message_id=identity,
                        now=now,
                    )
                except AlreadyDelivered:
                    duplicate += 1
                    continue
                if lifecycle in LIFECYCLE_EVENTS:
                    if lifecycle == "subscriptionRemoved":
                        webhook_subscription_mark(
                            subscription_id=subscription.pk,
                            status=WebhookSubscription.Status.REVOKED,
                            reason="subscriptionRemoved",
                        )
                    told.add((subscription.pk, lifecycle))
                    continue
                records.append(graph_event_record(notification=notification, received_at=now))
                told.add((subscription.pk, "changed"))
            for subscription_pk, event in sorted(told):
                push_subscription_event_send(
                    subscription=subscriptions_by_pk[subscription_pk], event=event
                )
            result = records_store(user_id=user_id, source=SOURCE, records=records)
        outcome = GraphOutcome(
            written=outcome.written + result.written,
            duplicate=outcome.duplicate + duplicate + result.duplicate,
        )
    return outcome


def _client_state(subscription: WebhookSubscription) -> str:
    try:
        return subscription.secret
    except SealBroken:
        # Sealed with another FIELD_ENCRYPTION_KEY: nothing can match it.
        return ""


def graph_event_record(*, notification: dict[str, Any], received_at: datetime) -> EventRecord:
    """A change as an event: ``microsoft.<resource type>_<change>``, e.g. microsoft.event_created."""
    resource_data = notification.get("resourceData")
    resource_data = resource_data if isinstance(resource_data, dict) else {}
    odata_type = str(resource_data.get("@odata.type") or "")
    resource_type = odata_type.rsplit(".", 1)[-1].lower() if odata_type else "resource"
    change = str(notification.get("changeType") or notification.get("lifecycleEvent") or "changed")
    safe = "".join(c if c.isalnum() else "_" for c in f"{resource_type}_{change}".lower())
    state_free = {k: v for k, v in notification.items() if k != "clientState"}
    return EventRecord(
        kind=f"microsoft.{safe}"[:64],
        occurred_at=received_at,  # Graph says what changed, not when
        title=f"Microsoft {resource_type} {change}",
        url="",
        data={"notification": state_free},  # never store the shared secret
        provenance=Provenance(source=SOURCE, connector=CONNECTOR, received_at=received_at),
    )
