"""Group commit: ingest requests that arrive together share one transaction,
and each still gets its own outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async

from apps.core.db.context import user_context
from apps.lake.models import Event
from apps.lake.takeout.records import EventRecord
from apps.stream import group_commit
from apps.stream.services import IngestItem, events_ingest_group
from tests.acting import all_of, count_of

NOW = datetime(2026, 11, 30, 18, tzinfo=UTC)


def record(title: str, *, latitude: float | None = None) -> EventRecord:
    return EventRecord(
        kind="mood.logged",
        occurred_at=NOW,
        title=title,
        latitude=latitude,
        longitude=0.0 if latitude is not None else None,
    )


@pytest.mark.django_db
def test_one_group_many_outcomes(owner, outsider):
    items = [
        IngestItem(user_id=owner.pk, records=[record("a"), record("b")], received_at=NOW),
        IngestItem(user_id=outsider.pk, records=[record("a")], received_at=NOW),
        # The same event again in the same group: a duplicate of the first request's.
        IngestItem(user_id=owner.pk, records=[record("a")], received_at=NOW),
        IngestItem(user_id=owner.pk, records=[record("c")], received_at=NOW, replay_guard="sig-1"),
        # The same signature twice in one group: the second is a replay.
        IngestItem(user_id=owner.pk, records=[record("d")], received_at=NOW, replay_guard="sig-1"),
        # Out of range: the normalizer quarantines it, the request says so.
        IngestItem(user_id=owner.pk, records=[record("e", latitude=95)], received_at=NOW),
    ]

    outcomes = events_ingest_group(items=items)

    assert [(o.written, o.duplicate, o.quarantined, o.replayed) for o in outcomes] == [
        (2, 0, 0, False),
        (1, 0, 0, False),
        (0, 1, 0, False),
        (1, 0, 0, False),
        (0, 0, 0, True),
        (0, 0, 1, False),
    ]
    assert sorted(e.title for e in all_of(owner, Event)) == [
        "a",
        "b",
        "c",
    ]
    assert [e.title for e in all_of(outsider, Event)] == ["a"]
    ids = [i for o in outcomes for i in o.event_ids]
    assert len(ids) == len(set(ids)) == 4

    # A later group with the same signature: a replay too.
    again = events_ingest_group(
        items=[
            IngestItem(
                user_id=owner.pk, records=[record("z")], received_at=NOW, replay_guard="sig-1"
            )
        ]
    )
    assert again[0].replayed and count_of(owner, Event, title="z") == 0


@pytest.mark.django_db(transaction=True)
async def test_requests_waiting_together_are_committed_together(make_user, monkeypatch):
    owner = await sync_to_async(make_user)("owner")
    groups: list[int] = []
    store = group_commit._store_group

    def counting(store_items, items):
        groups.append(len(items))
        return store(store_items, items)

    monkeypatch.setattr(group_commit, "_store_group", counting)
    committer = group_commit.committer()
    items = [
        IngestItem(user_id=owner.pk, records=[record(f"event {n}")], received_at=NOW)
        for n in range(30)
    ]

    outcomes = await asyncio.gather(*(committer.store(item) for item in items))

    assert [o.written for o in outcomes] == [1] * 30
    assert sum(groups) == 30
    assert len(groups) < 30  # at least one commit was shared
    assert await sync_to_async(_count_events)(owner.pk) == 30


def _count_events(user_id: int) -> int:
    with user_context(user_id):  # a thread of its own: under row-level security
        return count_of(user_id, Event)
