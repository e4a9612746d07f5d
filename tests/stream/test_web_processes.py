"""Several daphne processes behind the nginx front, as scripts/demo.sh serves
Datapunk: ingest requests are spread over them, and the live feed hears every
store whichever process made it (the channel layer is Redis, not a process)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import requests
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer

from apps.core.feed import feed_group
from apps.lake.models import Event
from tests.acting import count_of

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 12


def _stored_titles(layer: RedisChannelLayer, channel: str, expected: int) -> set[str]:
    async def receive() -> set[str]:
        titles: set[str] = set()
        async with asyncio.timeout(30):
            while len(titles) < expected:
                message = (await layer.receive(channel))["message"]
                if message["type"] == "records.stored":
                    titles.update(event["title"] for event in message["data"]["events"])
        return titles

    return async_to_sync(receive)()


def test_two_processes_share_the_ingest_and_every_store_reaches_the_feed(
    make_front, child_env, owner, owner_key, tmp_path
):
    front = make_front(processes=2)
    # A feed listener in this process, on the children's channel layer.
    layer = RedisChannelLayer(hosts=[child_env["REDIS_URL"]], prefix=child_env["CHANNELS_PREFIX"])
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(feed_group(owner.pk), channel)

    for n in range(REQUESTS):
        answer = requests.post(
            f"{front}/api/ingest/events/",
            json={
                "kind": "test.tick",
                "occurred_at": datetime(2026, 12, 1, 9, n, tzinfo=UTC).isoformat(),
                "title": f"tick {n}",
            },
            headers={"Authorization": f"Bearer {owner_key.api_key}"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text

    titles = _stored_titles(layer, channel, REQUESTS)
    assert titles == {f"tick {n}" for n in range(REQUESTS)}
    assert count_of(owner, Event, kind="test.tick") == REQUESTS
    # The front spread the requests: each process stored some of them.
    for n in (1, 2):
        log = (tmp_path / f"daphne-{n}-access.log").read_text()
        assert log.count("POST /api/ingest/events/") >= 1, f"daphne {n} served none"
        # And each loaded the PII model when it started (DATAPUNK_PII_PRELOAD).
        assert "PII model loaded in" in (tmp_path / f"daphne-{n}.log").read_text()
