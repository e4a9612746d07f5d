"""Geofence crossings of streamed fixes: incremental, in order, idempotent, and right
again when a fix arrives late; a crossing reaches the owner's live feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.gis.geos import Point

from apps.analytics.models import Geofence, GeofenceState
from apps.core.db.context import user_context
from apps.lake.models import Event
from apps.lake.takeout.records import LocationRecord
from apps.stream.devices.services import device_create, device_records_store
from tests.stream.test_feed_consumer import _communicator, _session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
HOME = (48.8566, 2.3522)
AWAY = (48.8700, 2.3522)  # 1.5 km north


def fix(minute: int, where: tuple[float, float]) -> LocationRecord:
    return LocationRecord(
        recorded_at=T0 + timedelta(minutes=minute), latitude=where[0], longitude=where[1]
    )


def setup(user):
    with user_context(user.pk):
        Geofence.objects.create(
            user=user, name="Home", center=Point(HOME[1], HOME[0], srid=4326), radius_m=200
        )
        return device_create(user_id=user.pk, name="phone", kind="owntracks").device


def send(device, *fixes: LocationRecord) -> None:
    device_records_store(device=device, records=list(fixes), now=T0 + timedelta(days=1))


def crossings(user) -> list[tuple[str, int]]:
    with user_context(user.pk):
        return [
            (kind, int((at - T0).total_seconds() // 60))
            for kind, at in Event.objects.filter(kind__startswith="geofence.")
            .order_by("occurred_at")
            .values_list("kind", "occurred_at")
        ]


def test_fixes_in_order_cross_once_each_and_repeats_add_nothing(owner):
    device = setup(owner)
    send(device, fix(0, AWAY))
    send(device, fix(10, HOME))
    send(device, fix(20, HOME), fix(30, AWAY))
    send(device, fix(30, AWAY))  # the phone sends it again
    send(device, fix(40, AWAY))

    assert crossings(owner) == [("geofence.enter", 10), ("geofence.exit", 30)]
    with user_context(owner.pk):
        state = GeofenceState.objects.get()
    assert (state.fix_at, state.inside) == (T0 + timedelta(minutes=40), False)


def test_a_late_fix_reopens_its_span(owner):
    device = setup(owner)
    send(device, fix(0, AWAY), fix(10, AWAY), fix(20, HOME))
    assert crossings(owner) == [("geofence.enter", 20)]

    send(device, fix(5, HOME))  # sent late (the phone was offline)

    assert crossings(owner) == [
        ("geofence.enter", 5),
        ("geofence.exit", 10),
        ("geofence.enter", 20),
    ]
    send(device, fix(15, HOME))  # late again: the exit at 10 is followed by an enter at 15
    assert crossings(owner) == [
        ("geofence.enter", 5),
        ("geofence.exit", 10),
        ("geofence.enter", 15),
    ]


def test_the_first_fixes_are_judged_against_history_from_an_import(owner):
    device = setup(owner)
    with user_context(owner.pk):
        # Imported earlier (before the geofence had any state): inside at minute 0.
        from apps.lake.pipeline import records_store

        records_store(user_id=owner.pk, source="takeout", records=[fix(0, HOME)])
    send(device, fix(10, AWAY))
    assert crossings(owner) == [("geofence.exit", 10)]


async def test_a_crossing_appears_in_the_feed(make_user):
    owner = await sync_to_async(make_user)("owner")
    device = await sync_to_async(setup)(owner)
    await sync_to_async(send)(device, fix(0, AWAY))
    socket = _communicator(await sync_to_async(_session_cookie)(owner))
    assert (await socket.connect(timeout=15))[0]

    await sync_to_async(send)(device, fix(10, HOME))

    kinds = []
    for _ in range(3):
        message = await socket.receive_json_from(timeout=5)
        if message["type"] == "records.stored":
            kinds += [(e["kind"], e["title"]) for e in message["data"]["events"]]
            break
    assert kinds == [("geofence.enter", "Entered Home")]
    await socket.disconnect()
