"""Events stored by any stream reach the owner's open feeds, as events (kind,
title, time), after commit; nobody else's."""

from __future__ import annotations

import dataclasses
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import Client

from apps.core.db.context import user_context
from apps.lake import pipeline
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord
from apps.stream.services import ingest_key_rotate

from .test_feed_consumer import _communicator, _session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

EVENT = {"kind": "mood.logged", "occurred_at": "2026-11-30T18:04:05Z", "title": "Feeling fine"}


def _key_for(user_id: int):
    with user_context(user_id):  # a thread of its own: under row-level security
        return ingest_key_rotate(user_id=user_id)


def _ingest(api_key: str, payload) -> dict:
    response = Client().post(
        "/api/ingest/events/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    assert response.status_code == 202, response.content
    return response.json()


async def test_an_event_ingested_over_http_arrives_on_the_owners_socket(make_user):
    owner = await sync_to_async(make_user)("owner")
    outsider = await sync_to_async(make_user)("outsider")
    key = await sync_to_async(_key_for)(owner.pk)
    owner_socket = _communicator(await sync_to_async(_session_cookie)(owner))
    outsider_socket = _communicator(await sync_to_async(_session_cookie)(outsider))
    assert (await owner_socket.connect(timeout=15))[0] and (
        await outsider_socket.connect(timeout=15)
    )[0]

    answer = await sync_to_async(_ingest)(key.api_key, EVENT)

    message = await owner_socket.receive_json_from(timeout=5)
    assert message["type"] == "records.stored"
    assert message["data"]["written"] == 1 and message["data"]["more"] == 0
    assert message["data"]["events"] == [
        {
            "id": answer["event_ids"][0],
            "kind": "mood.logged",
            "source": "ingest",
            "occurred_at": "2026-11-30T18:04:05Z",
            "title": "Feeling fine",
            "url": "",
        }
    ]
    assert await outsider_socket.receive_nothing(timeout=0.5)
    # A duplicate stores nothing and so says nothing.
    await sync_to_async(_ingest)(key.api_key, EVENT)
    assert await owner_socket.receive_nothing(timeout=0.5)
    await owner_socket.disconnect()
    await outsider_socket.disconnect()


def _store_and_roll_back(user_id: int) -> None:
    with user_context(user_id), transaction.atomic():
        records_store(
            user_id=user_id,
            source="ingest",
            records=[EventRecord(kind="k.v", occurred_at=None, title="never committed")],
        )
        transaction.set_rollback(True)


async def test_nothing_is_published_for_rolled_back_events(make_user):
    owner = await sync_to_async(make_user)("owner")
    socket = _communicator(await sync_to_async(_session_cookie)(owner))
    assert (await socket.connect(timeout=15))[0]
    await sync_to_async(_store_and_roll_back)(owner.pk)
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_a_large_store_is_sent_in_parts_up_to_a_limit(make_user, monkeypatch):
    monkeypatch.setattr(pipeline, "FEED_EVENTS_PER_MESSAGE", 3)
    monkeypatch.setattr(pipeline, "FEED_EVENTS_SHOWN", 7)
    owner = await sync_to_async(make_user)("owner")
    key = await sync_to_async(_key_for)(owner.pk)
    socket = _communicator(await sync_to_async(_session_cookie)(owner))
    assert (await socket.connect(timeout=15))[0]

    batch = [{**EVENT, "title": f"event {n}", "occurred_at": 1796148245 + n} for n in range(10)]
    await sync_to_async(_ingest)(key.api_key, batch)

    parts = [(await socket.receive_json_from(timeout=5))["data"] for _ in range(3)]
    assert [len(p["events"]) for p in parts] == [3, 3, 1]
    assert [p["written"] for p in parts] == [10, 0, 0]
    assert [p["more"] for p in parts] == [0, 0, 3]
    assert [len(p["event_ids"]) for p in parts] == [10, 0, 0]
    titles = [e["title"] for p in parts for e in p["events"]]
    assert titles == [f"event {n}" for n in range(7)]
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


def test_events_pass_the_privacy_redaction_before_they_are_published(monkeypatch, owner):
    seen = []

    def redact(*, user_id, payloads):
        seen.append(user_id)
        return [{**p, "title": "[masked]"} for p in payloads]

    from apps.lake import hooks

    monkeypatch.setattr(
        hooks, "_guard", dataclasses.replace(hooks.pii_guard(), mask_event_payloads=redact)
    )
    from apps.lake.normalize import event_row

    row = event_row(EventRecord(kind="k.v", occurred_at=None, title="Call +49 170 1234567"))
    shown = pipeline.feed_events(user_id=owner.pk, source="ingest", stored=[(1, row)])
    assert seen == [owner.pk]
    assert shown[0]["title"] == "[masked]"
