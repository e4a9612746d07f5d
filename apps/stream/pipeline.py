"""The stream side's one way into the lake: records in, stored, published.

Connector syncs, webhooks and the ingest endpoint all end here, and share the
lake's normalizer and writer with Takeout imports (one pipeline, not two).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from apps.lake.signals import events_stored
from apps.lake.takeout.records import Record
from apps.lake.writer import BatchWriter, FlushResult
from apps.stream.events import publish


def records_store(*, user_id: int, source: str, records: Iterable[Record]) -> FlushResult:
    """Normalize and store ``records`` for ``user_id``; publish what was new after commit.

    Idempotent: records already stored (same content hash and time) are counted
    as duplicates and change nothing. Unreadable records go to quarantine with
    their reason. Locks nothing beyond the rows it inserts.
    """
    total = FlushResult()
    stored: list[int] = []
    with BatchWriter(user_id=user_id, source=source) as writer:
        for record in records:
            writer.add(record)
            if writer.full:
                result = writer.flush()
                stored.extend(result.event_ids)
                total.add(result)
        result = writer.flush()
        stored.extend(result.event_ids)
        total.add(result)
    total.event_ids = stored
    if stored or total.quarantined:

        def announce() -> None:
            publish(
                user_id,
                {
                    "type": "records.stored",
                    "data": {
                        "source": source,
                        "written": total.written,
                        "duplicate": total.duplicate,
                        "quarantined": total.quarantined,
                        "event_ids": stored,
                    },
                },
            )
            if stored:
                events_stored.send(
                    sender=BatchWriter, user_id=user_id, source=source, event_ids=stored
                )

        transaction.on_commit(announce)
    return total
