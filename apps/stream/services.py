"""Writes of the inbound side: ingest keys, ingested events, webhook subscriptions,
claimed deliveries. Events themselves are stored by apps/lake/pipeline.records_store."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.db.context import system_context, user_context
from apps.core.sealing import seal
from apps.lake.normalize import event_row
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord
from apps.lake.writer import FlushResult
from apps.privacy.audit import audit_record
from apps.stream.models import InboundDelivery, IngestKey, WebhookSubscription
from apps.stream.remembered import Remembered
from apps.stream.signals import push_subscription_event

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
        audit_record(action="stream.ingest_key.rotate", user_id=user_id, target=key_id, ip=ip)
        transaction.on_commit(partial(_ingest_keys_forget, user_id))
    return issued


def _ingest_keys_forget(user_id: int) -> None:
    remembered_ingest_keys.forget_where(lambda key: key.user_id == user_id)


def ingest_key_delete(*, user_id: int, ip: str | None = None) -> bool:
    """Revoke ``user_id``'s ingest credentials; idempotent (False if there were none)."""
    with transaction.atomic():
        deleted, _ = IngestKey.objects.filter(user_id=user_id).delete()
        if deleted:
            audit_record(action="stream.ingest_key.delete", user_id=user_id, ip=ip)
            transaction.on_commit(partial(_ingest_keys_forget, user_id))
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


@dataclass(slots=True)
class IngestItem:
    """One accepted ingest request: its owner, its validated records, its replay guard."""

    user_id: int
    records: list[EventRecord]
    received_at: datetime
    replay_guard: str | None = None  # a signed request's signature
    key_id: str | None = None  # the ingest key that authenticated it (none: a token, a session)


# Ingest keys found by the endpoint's authentication, by ("key_id" | "key_hash", value).
remembered_ingest_keys: Remembered[IngestKey] = Remembered(max_entries=10_000, seconds=300.0)


@dataclass(slots=True)
class IngestOutcome:
    written: int = 0
    duplicate: int = 0
    quarantined: int = 0
    event_ids: list[int] = field(default_factory=list)
    replayed: bool = False  # its signature was seen before: nothing of it stored
    revoked: bool = False  # its key was rotated or deleted meanwhile: nothing of it stored


_CLAIM = """
INSERT INTO stream_inbounddelivery (user_id, channel, message_id, received_at)
SELECT %s, %s, unnest(%s::text[]), %s
ON CONFLICT DO NOTHING
RETURNING message_id
"""


def events_ingest_group(*, items: list[IngestItem]) -> list[IngestOutcome]:
    """Store the events of several ingest requests in one transaction; one outcome each.

    Requests that arrive together share one commit (group commit): that is
    what lets the endpoint keep up with hundreds of single-event requests a
    second. Each user's part runs in that user's context. A signed request
    whose signature was seen before (or twice in the group) stores nothing
    and is marked ``replayed``. Idempotent per event (duplicates are counted,
    not stored). Committed when this returns.
    """
    outcomes = [IngestOutcome() for _ in items]
    by_user: dict[int, list[int]] = {}
    for index, item in enumerate(items):
        by_user.setdefault(item.user_id, []).append(index)
    with transaction.atomic():
        for user_id, indexes in by_user.items():
            with user_context(user_id):
                indexes = _with_live_keys([(i, items[i]) for i in indexes], outcomes)
                accepted = _claim_signed(user_id, [(i, items[i]) for i in indexes], outcomes)
                records = [record for i in accepted for record in items[i].records]
                result = records_store(user_id=user_id, source=INGEST_SOURCE, records=records)
                _attribute(result, [(i, items[i]) for i in accepted], outcomes)
    return outcomes


def _with_live_keys(
    items: list[tuple[int, IngestItem]], outcomes: list[IngestOutcome]
) -> list[int]:
    """The indexes whose key (if any) still exists: keys are remembered by the
    endpoint, so a key rotated or deleted in another process is refused here."""
    key_ids = {item.key_id for _, item in items if item.key_id is not None}
    if not key_ids:  # DRF tokens, sessions: checked by their own authentication
        return [index for index, _ in items]
    live = set(IngestKey.objects.filter(key_id__in=key_ids).values_list("key_id", flat=True))
    gone = key_ids - live
    if gone:
        remembered_ingest_keys.forget_where(lambda key: key.key_id in gone)
    kept = []
    for index, item in items:
        if item.key_id is None or item.key_id in live:
            kept.append(index)
        else:
            outcomes[index].revoked = True
    return kept


def _claim_signed(
    user_id: int, items: list[tuple[int, IngestItem]], outcomes: list[IngestOutcome]
) -> list[int]:
    """Claim the signed requests' signatures; return the indexes that may be stored."""
    guards = [item.replay_guard for _, item in items if item.replay_guard is not None]
    claimed: set[str] = set()
    if guards:
        with connection.cursor() as cursor:
            cursor.execute(
                _CLAIM,
                [user_id, InboundDelivery.Channel.INGEST, guards, items[0][1].received_at],
            )
            claimed = {message_id for (message_id,) in cursor.fetchall()}
    accepted = []
    for index, item in items:
        if item.replay_guard is None:
            accepted.append(index)
        elif item.replay_guard in claimed:
            claimed.discard(item.replay_guard)  # a second copy in this group is a replay
            accepted.append(index)
        else:
            outcomes[index].replayed = True
    return accepted


def _attribute(
    result: FlushResult, items: list[tuple[int, IngestItem]], outcomes: list[IngestOutcome]
) -> None:
    """Which request's events were inserted: the database's dedupe key tells."""
    inserted = {
        (row.content_hash, row.occurred_at): event_id for event_id, row in result.stored_events
    }
    for index, item in items:
        outcome = outcomes[index]
        for record in item.records:
            try:
                row = event_row(record)
            except (ValueError, TypeError):
                outcome.quarantined += 1
                continue
            event_id = inserted.pop((row.content_hash, row.occurred_at), None)
            if event_id is None:
                outcome.duplicate += 1
            else:
                outcome.written += 1
                outcome.event_ids.append(event_id)


def events_ingest(
    *,
    user_id: int,
    records: list[EventRecord],
    replay_guard: str | None = None,
    now: datetime | None = None,
) -> IngestOutcome:
    """Store one request's validated records (see events_ingest_group)."""
    item = IngestItem(
        user_id=user_id,
        records=records,
        received_at=now or timezone.now(),
        replay_guard=replay_guard,
    )
    return events_ingest_group(items=[item])[0]


def webhook_subscription_create(
    *,
    user_id: int,
    provider: str,
    external_id: str,
    secret: str,
    topic: str = "",
    status: str = WebhookSubscription.Status.PENDING,
    expires_at: datetime | None = None,
    connection_id: int | None = None,
) -> WebhookSubscription:
    """Register a provider subscription (called by the connector that subscribes).

    Twitch's start pending (its callback verification enables them); Graph
    validates the callback before it answers the creation, so the connector
    registers those enabled. Idempotent on (provider, external_id): a second
    call updates secret, topic, status and expiry.
    """
    subscription, _ = WebhookSubscription.objects.update_or_create(
        provider=provider,
        external_id=external_id,
        defaults={
            "user_id": user_id,
            "topic": topic,
            "secret_sealed": seal(secret),
            "status": status,
            "expires_at": expires_at,
            "connection_id": connection_id,
        },
    )
    return subscription


def webhook_subscription_mark(*, subscription_id: int, status: str, reason: str = "") -> None:
    """Record the provider's word on a subscription (verified, revoked); idempotent."""
    WebhookSubscription.objects.filter(pk=subscription_id).update(
        status=status, revoked_reason=reason[:255], updated_at=timezone.now()
    )


def push_subscription_event_send(*, subscription: WebhookSubscription, event: str) -> None:
    """Tell the connector that made ``subscription`` what its provider said,
    once the current transaction commits (a rolled-back delivery says nothing)."""
    user_id, connection_id, pk = subscription.user_id, subscription.connection_id, subscription.pk

    def send() -> None:
        push_subscription_event.send(
            sender=WebhookSubscription,
            user_id=user_id,
            connection_id=connection_id,
            subscription_id=pk,
            event=event,
        )

    transaction.on_commit(send)


def inbound_deliveries_prune(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Forget message ids older than the replay window allows to come back.

    Deliveries older than the signature's time window are refused as stale
    anyway, so their ids need not be kept. Idempotent; locks the rows it deletes.
    """
    with system_context():  # across users on purpose: age is all that counts
        deleted, _ = InboundDelivery.objects.filter(
            received_at__lt=timezone.now() - older_than
        ).delete()
    return deleted
