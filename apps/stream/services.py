"""Writes of the inbound side: ingest keys, ingested events, webhook subscriptions,
claimed deliveries. Events themselves are stored by pipeline.records_store."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.lake.takeout.records import Record
from apps.lake.writer import FlushResult
from apps.privacy.audit import audit_record
from apps.stream.models import InboundDelivery, IngestKey, WebhookSubscription
from apps.stream.pipeline import records_store
from apps.stream.sealed import seal

# The source of every event that arrives through the ingest endpoint; the
# client's own name for itself is kept in the event's provenance.
INGEST_SOURCE = "ingest"


@dataclass(frozen=True, slots=True)
class IssuedIngestKey:
    """Credentials as shown once, right after they are made."""

    key_id: str
    api_key: str
    secret: str


def api_key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def ingest_key_rotate(*, user_id: int, ip: str | None = None) -> IssuedIngestKey:
    """Make new ingest credentials for ``user_id``, replacing any earlier ones
    (which stop working at once). Not idempotent: every call issues new ones."""
    key_id = "ik_" + secrets.token_hex(8)
    issued = IssuedIngestKey(
        key_id=key_id,
        api_key=f"dpk_{secrets.token_urlsafe(32)}",
        secret=f"dps_{secrets.token_urlsafe(32)}",
    )
    with transaction.atomic():
        IngestKey.objects.update_or_create(
            user_id=user_id,
            defaults={
                "key_id": key_id,
                "key_hash": api_key_hash(issued.api_key),
                "secret_sealed": seal(issued.secret),
            },
        )
        audit_record(
            action="stream.ingest_key.rotate", user_id=user_id, target=key_id, ip=ip
        )
    return issued


def ingest_key_delete(*, user_id: int, ip: str | None = None) -> bool:
    """Revoke ``user_id``'s ingest credentials; idempotent (False if there were none)."""
    with transaction.atomic():
        deleted, _ = IngestKey.objects.filter(user_id=user_id).delete()
        if deleted:
            audit_record(action="stream.ingest_key.delete", user_id=user_id, ip=ip)
    return bool(deleted)


class AlreadyDelivered(Exception):
    """This message id was received before; it is not stored again."""


def delivery_claim(*, user_id: int, channel: str, message_id: str, now: datetime) -> None:
    """Record that ``message_id`` arrived, or raise AlreadyDelivered.

    Call inside the transaction that stores the delivery: the unique
    constraint decides under concurrency, and a rollback releases the claim.
    """
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives
            InboundDelivery.objects.create(
                user_id=user_id, channel=channel, message_id=message_id, received_at=now
            )
    except IntegrityError:
        raise AlreadyDelivered(message_id) from None


def events_ingest(
    *,
    user_id: int,
    records: list[Record],
    replay_guard: str | None = None,
    now: datetime | None = None,
) -> FlushResult:
    """Store validated ingest records for ``user_id`` (committed when this returns).

    ``replay_guard`` (a signed request's signature) is claimed in the same
    transaction, so a replayed signed request stores nothing. Idempotent per
    event: an event sent twice is a duplicate the second time.
    """
    with transaction.atomic():
        if replay_guard is not None:
            delivery_claim(
                user_id=user_id,
                channel=InboundDelivery.Channel.INGEST,
                message_id=replay_guard,
                now=now or timezone.now(),
            )
        return records_store(user_id=user_id, source=INGEST_SOURCE, records=records)


def webhook_subscription_create(
    *, user_id: int, provider: str, external_id: str, secret: str, topic: str = ""
) -> WebhookSubscription:
    """Register a provider subscription (called by the connector that subscribes).

    Idempotent on (provider, external_id): a second call updates secret and topic.
    """
    subscription, _ = WebhookSubscription.objects.update_or_create(
        provider=provider,
        external_id=external_id,
        defaults={"user_id": user_id, "topic": topic, "secret_sealed": seal(secret)},
    )
    return subscription


def webhook_subscription_mark(
    *, subscription_id: int, status: str, reason: str = ""
) -> None:
    """Record the provider's word on a subscription (verified, revoked); idempotent."""
    WebhookSubscription.objects.filter(pk=subscription_id).update(
        status=status, revoked_reason=reason[:255], updated_at=timezone.now()
    )


def inbound_deliveries_prune(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Forget message ids older than the replay window allows to come back.

    Deliveries older than the signature's time window are refused as stale
    anyway, so their ids need not be kept. Idempotent; locks the rows it deletes.
    """
    deleted, _ = InboundDelivery.objects.filter(
        received_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
