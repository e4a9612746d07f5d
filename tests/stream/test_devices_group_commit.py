"""Devices' fixes that arrive together share one transaction: each lands under its
owner's row-level security, each request still gets its own outcome, and a
device's last_seen_at and the live feed are written once per group."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async

from apps.core.db.context import user_context
from apps.lake.models import LocationPoint, Quarantine
from apps.lake.takeout.records import LocationRecord
from apps.stream import group_commit
from apps.stream.devices.services import device_create, device_items_store, device_records_check
from apps.stream.models import Device
from tests.acting import count_of

NOW = int(time.time())


def fix(seconds_ago: int, latitude: float = 48.85) -> LocationRecord:
    return LocationRecord(
        recorded_at=datetime.fromtimestamp(NOW - seconds_ago, UTC),
        latitude=latitude,
        longitude=2.35,
        source="owntracks",
        accuracy_m=10.0,
    )


def _device(user, name="phone"):
    with user_context(user.pk):
        return device_create(user_id=user.pk, name=name, kind="owntracks").device


def _points(user) -> list[LocationPoint]:
    with user_context(user.pk):
        return list(LocationPoint.objects.order_by("recorded_at"))


@pytest.mark.django_db(transaction=True)
def test_one_group_of_two_users_lands_under_each_owner(owner, outsider):
    phone, tablet, theirs = _device(owner), _device(owner, "tablet"), _device(outsider)
    items = [
        device_records_check(device=phone, records=[fix(60), fix(50)]),
        device_records_check(device=theirs, records=[fix(60, latitude=1.0)]),
        device_records_check(device=tablet, records=[fix(40)]),
        device_records_check(device=phone, records=[fix(60)]),  # sent again: a duplicate
        device_records_check(device=phone, records=[fix(30, latitude=95.0)]),  # off the globe
    ]

    outcomes = device_items_store(items)

    assert [(o.written, o.duplicate, o.quarantined) for o in outcomes] == [
        (2, 0, 0),
        (1, 0, 0),
        (1, 0, 0),
        (0, 1, 0),
        (0, 0, 1),
    ]
    assert [round(p.point.y, 2) for p in _points(owner)] == [48.85, 48.85, 48.85]
    assert [round(p.point.y, 2) for p in _points(outsider)] == [1.0]
    with user_context(owner.pk):
        assert count_of(owner, Quarantine) == 1
        assert all(d.last_seen_at for d in Device.objects.filter(user=owner))


@pytest.mark.django_db(transaction=True)
async def test_device_requests_waiting_together_are_committed_together(make_user, monkeypatch):
    owner = await sync_to_async(make_user)("owner")
    phone = await sync_to_async(_device)(owner)
    groups: list[int] = []
    store = group_commit._store_group

    def counting(store_items, items):
        groups.append(len(items))
        return store(store_items, items)

    monkeypatch.setattr(group_commit, "_store_group", counting)
    committer = group_commit.committer(device_items_store)
    items = [device_records_check(device=phone, records=[fix(n)]) for n in range(1, 31)]

    outcomes = await asyncio.gather(*(committer.store(item) for item in items))

    assert [o.written for o in outcomes] == [1] * 30
    assert sum(groups) == 30 and len(groups) < 30  # at least one commit was shared
    assert len(await sync_to_async(_points)(owner)) == 30


@pytest.mark.django_db(transaction=True)
def test_a_group_is_one_feed_message_per_user_with_each_devices_fixes(owner, outsider):
    from apps.core.feed import feed_messages_held

    phone, tablet, theirs = _device(owner), _device(owner, "tablet"), _device(outsider)
    items = [
        device_records_check(device=phone, records=[fix(60)]),
        device_records_check(device=tablet, records=[fix(50)]),
        device_records_check(device=theirs, records=[fix(40)]),
        device_records_check(device=phone, records=[fix(30)]),
    ]

    with feed_messages_held() as messages:
        device_items_store(items)

    assert [user_id for user_id, _ in messages] == [owner.pk, outsider.pk]
    mine = messages[0][1]["data"]
    assert mine["devices"] == ["phone", "tablet"]
    assert [(p["device"], p["at"][-9:-1]) for p in mine["points"]] == [
        ("phone", _clock(60)),
        ("phone", _clock(30)),
        ("tablet", _clock(50)),
    ]
    assert [p["device"] for p in messages[1][1]["data"]["points"]] == ["phone"]


def _clock(seconds_ago: int) -> str:
    return datetime.fromtimestamp(NOW - seconds_ago, UTC).strftime("%H:%M:%S")
