"""The stream side's one way into the lake: records in, guarded, stored, published.

Connector syncs, webhooks, devices, geofences and the ingest endpoint all end
here, and share the lake's normalizer and writer with Takeout imports (one
pipeline, not two). The PII guard is apps/privacy's, through apps/lake/hooks.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson
from django.db import transaction

from apps.core.feed import publish
from apps.lake.hooks import pii_guard
from apps.lake.normalize import EventRow, iso_utc
from apps.lake.signals import events_stored
from apps.lake.takeout.records import Record
from apps.lake.writer import BatchWriter, FlushResult

# A feed message carries at most FEED_EVENTS_PER_MESSAGE events, and one store
# shows at most FEED_EVENTS_SHOWN of them: a sync of thousands says how many
# more there are instead of flooding the browser; ingest requests committed
# together (apps/stream/group_commit.py) still show every event.
FEED_EVENTS_PER_MESSAGE = 50
FEED_EVENTS_SHOWN = 1_000

# Set by followups_deferred(): stores leave their events_stored signal here.
_followups: ContextVar[list[Callable[[], None]] | None] = ContextVar("followups", default=None)


@contextmanager
def followups_deferred() -> Iterator[list[Callable[[], None]]]:
    """Stores inside leave their ``events_stored`` signal (what it queues:
    embeddings, the daily series) in the yielded list instead of sending it at
    commit, for the caller to run once it has answered. The ingest group
    commit does: queueing those tasks is a third of a small store's time and
    nobody waits for them."""
    followups: list[Callable[[], None]] = []
    token = _followups.set(followups)
    try:
        yield followups
    finally:
        _followups.reset(token)


def records_store(*, user_id: int, source: str, records: Iterable[Record]) -> FlushResult:
    """Normalize and store ``records`` for ``user_id``; publish what was new after commit.

    Idempotent: records already stored (same content hash and time) are counted
    as duplicates and change nothing. Unreadable records go to quarantine with
    their reason. Locks nothing beyond the rows it inserts.
    """
    total = FlushResult()
    stored: list[tuple[int, EventRow]] = []
    with BatchWriter(user_id=user_id, source=source) as writer:
        for record in records:
            if writer.add(record):  # the batch is full
                result = writer.flush()
                stored.extend(result.stored_events)
                total.add(result)
        result = writer.flush()
        stored.extend(result.stored_events)
        total.add(result)
    total.event_ids = [event_id for event_id, _ in stored]
    total.stored_events = stored
    with_pii: set[int] = set()
    if stored:
        # PII is found at write time for streams, in this transaction: the feed
        # below and every later read mask it from the first moment.
        with_pii = pii_guard().scan_new_events(
            user_id=user_id,
            events=[
                {
                    "id": event_id,
                    "occurred_at": row.occurred_at,
                    "kind": row.kind,
                    "title": row.title,
                    "text": row.text,
                    "url": row.url,
                    "data": orjson.loads(row.data_json),
                }
                for event_id, row in stored
            ],
        )
    if stored or total.quarantined:
        event_ids = total.event_ids
        times = [row.occurred_at for _, row in stored]
        first_at, last_at = (min(times), max(times)) if times else (None, None)
        shown = stored[:FEED_EVENTS_SHOWN]
        chunks = [
            shown[start : start + FEED_EVENTS_PER_MESSAGE]
            for start in range(0, len(shown), FEED_EVENTS_PER_MESSAGE)
        ] or [[]]
        # Masked now, in the caller's user context (row-level security admits the
        # owner's privacy settings there); sent only after commit.
        shown_events = [
            feed_events(user_id=user_id, source=source, stored=chunk, with_pii=with_pii)
            for chunk in chunks
        ]

        def announce() -> None:
            # The first message has the counts, the last says how many are not shown.
            for number in range(len(chunks)):
                publish(
                    user_id,
                    {
                        "type": "records.stored",
                        "data": {
                            "source": source,
                            "written": total.written if number == 0 else 0,
                            "duplicate": total.duplicate if number == 0 else 0,
                            "quarantined": total.quarantined if number == 0 else 0,
                            # Every inserted id, once (as this message always said).
                            "event_ids": event_ids if number == 0 else [],
                            "events": shown_events[number],
                            "more": len(stored) - len(shown) if number == len(chunks) - 1 else 0,
                        },
                    },
                )
            if event_ids:

                def signal() -> None:
                    events_stored.send(
                        sender=BatchWriter,
                        user_id=user_id,
                        source=source,
                        event_ids=event_ids,
                        span=(first_at, last_at),
                    )

                deferred = _followups.get()
                if deferred is None:
                    signal()
                else:
                    deferred.append(signal)

        transaction.on_commit(announce)
    return total


def feed_events(
    *,
    user_id: int,
    source: str,
    stored: list[tuple[int, EventRow]],
    with_pii: set[int] | None = None,
) -> list[dict[str, Any]]:
    """What the live feed shows of stored events (kind, title, time), masked per the
    owner's privacy policy. Text and data are not sent, so they need no masking.

    ``with_pii``: the ids that have findings, when the caller has just scanned
    them; the others cannot be masked, so only these are looked up. None: all are.
    """
    payloads = [
        {
            "id": event_id,
            "kind": row.kind,
            "source": source,
            "occurred_at": iso_utc(row.occurred_at),
            "title": row.title,
            "url": row.url,
            "text": "",
            "data": {},
        }
        for event_id, row in stored
    ]
    if not payloads:
        return []
    to_mask = [p for p in payloads if with_pii is None or p["id"] in with_pii]
    if to_mask:
        masked = {
            p["id"]: p for p in pii_guard().mask_event_payloads(user_id=user_id, payloads=to_mask)
        }
        payloads = [masked.get(p["id"], p) for p in payloads]
    return [
        {key: payload[key] for key in ("id", "kind", "source", "occurred_at", "title", "url")}
        for payload in payloads
    ]
