"""Twitch EventSub over webhooks: verify a delivery, answer the callback
challenge, record revocations, and turn notifications into events.

Documented at https://dev.twitch.tv/docs/eventsub/handling-webhook-events/:
HMAC-SHA256 over message id + timestamp + raw body with the subscription's
secret, ``sha256=`` prefix; message types ``webhook_callback_verification``,
``notification`` and ``revocation``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import transaction

from apps.core.db.context import system_context, user_context
from apps.core.sealing import SealBroken
from apps.lake.normalize import InvalidValue, parse_timestamp
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord, Provenance
from apps.stream.models import InboundDelivery, WebhookSubscription
from apps.stream.services import (
    AlreadyDelivered,
    delivery_claim,
    push_subscription_event_send,
    webhook_subscription_mark,
)
from apps.stream.signing import SignatureRejected, twitch_verify

logger = logging.getLogger(__name__)

SOURCE = "twitch"
CONNECTOR = "twitch.eventsub"
# Notifications are a few kilobytes; a larger body is not Twitch.
MAX_BODY = 256 * 1024

HEADER_ID = "HTTP_TWITCH_EVENTSUB_MESSAGE_ID"
HEADER_TIMESTAMP = "HTTP_TWITCH_EVENTSUB_MESSAGE_TIMESTAMP"
HEADER_SIGNATURE = "HTTP_TWITCH_EVENTSUB_MESSAGE_SIGNATURE"
HEADER_TYPE = "HTTP_TWITCH_EVENTSUB_MESSAGE_TYPE"


class DeliveryRefused(Exception):
    """The delivery is not processed; ``status`` and the message are the answer."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    status: int
    text: str = ""  # the raw challenge for a verification, else empty
    written: int = 0


def twitch_delivery_receive(
    *, headers: dict[str, str], body: bytes, now: datetime
) -> DeliveryOutcome:
    """Verify and handle one delivery; raise DeliveryRefused for anything not genuine.

    Idempotent: a message id is handled once (its claim and its events commit
    together); a second delivery is answered 204 and stores nothing, as Twitch
    retries anything but a 2XX. Notifications count only for a subscription
    whose callback was verified and that is not revoked.
    """
    message_id = headers.get(HEADER_ID, "")
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    signature = headers.get(HEADER_SIGNATURE, "")
    message_type = headers.get(HEADER_TYPE, "")
    if not (message_id and timestamp and signature and message_type):
        raise DeliveryRefused(
            "Twitch-Eventsub-Message-Id, -Timestamp, -Signature and -Type are required.", 401
        )
    if len(message_id) > 128:
        raise DeliveryRefused("Twitch-Eventsub-Message-Id is too long.", 400)
    try:
        payload = orjson.loads(body)
        subscription_id = payload["subscription"]["id"]
        if not isinstance(subscription_id, str):
            raise TypeError
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise DeliveryRefused(
            "The body is not an EventSub message with a subscription id.", 400
        ) from None
    # Which user the delivery is for is known only from the subscription: a
    # cross-user lookup, before any user's context can be entered.
    with system_context():
        subscription = WebhookSubscription.objects.filter(
            provider=WebhookSubscription.Provider.TWITCH, external_id=subscription_id
        ).first()
    if subscription is None:
        raise DeliveryRefused("Unknown subscription.", 403)
    try:
        secret = subscription.secret
    except SealBroken:
        logger.error("twitch subscription %s: secret sealed with another key", subscription.pk)
        raise DeliveryRefused("This subscription's secret cannot be read here.", 403) from None
    try:
        sent_at = twitch_verify(
            secret=secret,
            message_id=message_id,
            timestamp=timestamp,
            body=body,
            signature=signature,
            now=now,
        )
    except SignatureRejected as exc:
        raise DeliveryRefused(exc.message, exc.status) from None

    with user_context(subscription.user_id):
        if message_type == "webhook_callback_verification":
            challenge = payload.get("challenge")
            if not isinstance(challenge, str):
                raise DeliveryRefused("A verification without a challenge.", 400)
            webhook_subscription_mark(
                subscription_id=subscription.pk, status=WebhookSubscription.Status.ENABLED
            )
            return DeliveryOutcome(status=200, text=challenge)
        if message_type not in ("notification", "revocation"):
            raise DeliveryRefused(f"Unknown message type {message_type[:40]!r}.", 400)
        if (
            message_type == "notification"
            and subscription.status != WebhookSubscription.Status.ENABLED
        ):
            raise DeliveryRefused(
                f"This subscription is {subscription.status}: its notifications are not stored.",
                410 if subscription.status == WebhookSubscription.Status.REVOKED else 403,
            )
        kind = (
            event_kind(payload["subscription"].get("type"))
            if message_type == "notification"
            else ""
        )
        with transaction.atomic():
            try:
                delivery_claim(
                    user_id=subscription.user_id,
                    channel=InboundDelivery.Channel.TWITCH,
                    message_id=message_id,
                    now=now,
                )
            except AlreadyDelivered:
                # Twitch redelivers until it sees a 2XX: acknowledge, store nothing.
                return DeliveryOutcome(status=204)
            if message_type == "revocation":
                reason = str(payload["subscription"].get("status") or "revoked")
                webhook_subscription_mark(
                    subscription_id=subscription.pk,
                    status=WebhookSubscription.Status.REVOKED,
                    reason=reason,
                )
                # The connector decides: make it again (notification_failures_exceeded)
                # or leave it (the user took the authorization back).
                push_subscription_event_send(subscription=subscription, event=f"revoked:{reason}")
                return DeliveryOutcome(status=204)
            record = twitch_event_record(
                kind=kind,
                subscription=payload["subscription"],
                event=payload.get("event"),
                message_id=message_id,
                sent_at=sent_at,
                received_at=now,
            )
            result = records_store(user_id=subscription.user_id, source=SOURCE, records=[record])
        return DeliveryOutcome(status=204, written=result.written)


def _name(event: dict[str, Any], prefix: str) -> str:
    return str(event.get(f"{prefix}_name") or event.get(f"{prefix}_login") or "someone")


def _title(kind: str, event: dict[str, Any]) -> str:
    broadcaster = _name(event, "broadcaster_user")
    match kind:
        case "channel.follow":
            return f"{_name(event, 'user')} followed {broadcaster}"
        case "channel.subscribe":
            tier = str(event.get("tier") or "")
            return f"{_name(event, 'user')} subscribed to {broadcaster}" + (
                f" (tier {tier[:1]})" if tier else ""
            )
        case "stream.online":
            return f"{broadcaster} went live"
        case "stream.offline":
            return f"{broadcaster} went offline"
        case "channel.update":
            return f"{broadcaster} is now streaming “{event.get('title') or ''}”"
        case "channel.raid":
            return (
                f"{_name(event, 'from_broadcaster_user')} raided "
                f"{_name(event, 'to_broadcaster_user')} with {event.get('viewers', 0)} viewers"
            )
        case "channel.cheer":
            who = "someone anonymous" if event.get("is_anonymous") else _name(event, "user")
            return f"{who} cheered {event.get('bits', 0)} bits for {broadcaster}"
        case "channel.chat.message":
            text = (event.get("message") or {}).get("text") or ""
            return f"{_name(event, 'chatter_user')} in {broadcaster}'s chat: {text}"
    return f"{kind} for {broadcaster}"


# When the event happened, where the payload says so; else when Twitch sent it.
_EVENT_TIME = {"channel.follow": "followed_at", "stream.online": "started_at"}


# Event.kind holds 64 characters; "twitch." and the type must fit.
MAX_KIND = 64


def event_kind(subscription_type: Any) -> str:
    """``twitch.<type with _>`` of a subscription type; DeliveryRefused if it cannot be one."""
    kind = str(subscription_type or "unknown")
    name = "twitch." + "_".join(kind.replace("-", "_").split("."))
    if len(name) > MAX_KIND:
        raise DeliveryRefused(
            f"subscription.type is longer than the {MAX_KIND - len('twitch.')} characters "
            "an event type can hold.",
            400,
        )
    return name


def twitch_event_record(
    *,
    kind: str = "",
    subscription: dict[str, Any],
    event: Any,
    message_id: str,
    sent_at: datetime,
    received_at: datetime,
) -> EventRecord:
    """One notification as an event: kind ``twitch.<type with _>``, e.g. twitch.channel_follow."""
    type_name = str(subscription.get("type") or "unknown")
    kind = kind or event_kind(type_name)
    event = event if isinstance(event, dict) else {}
    occurred_at = sent_at
    if (field := _EVENT_TIME.get(type_name)) and event.get(field):
        try:
            occurred_at = parse_timestamp(event[field], field=field)
        except InvalidValue:
            pass  # the message's own time is still a good answer
    login = event.get("broadcaster_user_login")
    return EventRecord(
        kind=kind,
        occurred_at=occurred_at,
        title=_title(type_name, event),
        url=f"https://www.twitch.tv/{login}" if isinstance(login, str) and login else "",
        data={
            "subscription_type": type_name,
            "subscription_version": subscription.get("version"),
            "event": event,
            "message_id": message_id,
        },
        # A message id names this delivery, not what happened.
        copy_fields=("message_id",),
        provenance=Provenance(source=SOURCE, connector=CONNECTOR, received_at=received_at),
    )
