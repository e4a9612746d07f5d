"""Phones sending live location: OwnTracks HTTP, Overland, GPSLogger, each device with its
own credential; points validated, deduplicated, stored, shown live; revoking stops a device."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from apps.core.db.context import user_context
from apps.lake.models import Event, LocationPoint, Quarantine
from apps.stream.devices.services import device_create
from apps.stream.models import Device
from tests.acting import one_of

from .test_feed_consumer import _communicator, _session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

NOW = int(time.time())


def _device(user, kind="owntracks", name="phone"):
    with user_context(user.pk):
        return device_create(user_id=user.pk, name=name, kind=kind)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def location(tst=NOW - 60, lat=48.8566, lon=2.3522, **extra):
    return {
        "_type": "location",
        "tst": tst,
        "lat": lat,
        "lon": lon,
        "acc": 12,
        "alt": 35,
        "vel": 18,
        "batt": 80,
        "tid": "ph",
        "conn": "m",
        **extra,
    }


def post_owntracks(issued, payload, username="owner", **headers):
    return Client().post(
        "/api/devices/owntracks/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(username, issued.credential),
        **headers,
    )


def points_of(user):
    with user_context(user.pk):
        return list(LocationPoint.objects.order_by("recorded_at"))


def test_owntracks_http_location_lands_once_and_gets_the_array_answer(owner):
    issued = _device(owner)

    response = post_owntracks(issued, location(), HTTP_X_LIMIT_U="owner", HTTP_X_LIMIT_D="phone")
    again = post_owntracks(issued, location())

    assert response.status_code == 200 and response.json() == []
    assert again.status_code == 200
    [point] = points_of(owner)
    assert point.recorded_at == datetime.fromtimestamp(NOW - 60, UTC)
    assert (round(point.point.y, 4), round(point.point.x, 4)) == (48.8566, 2.3522)
    assert (point.accuracy_m, point.altitude_m, point.velocity_mps) == (12.0, 35.0, 5.0)
    assert point.source == "owntracks"
    assert point.data == {
        "batt": 80,
        "tid": "ph",
        "conn": "m",
        "device": "phone",
        "reported_device": "phone",
    }


def test_owntracks_transition_and_waypoint_become_events(owner):
    issued = _device(owner)
    transition = {
        "_type": "transition",
        "event": "leave",
        "desc": "Office",
        "tst": NOW - 30,
        "lat": 48.85,
        "lon": 2.35,
        "acc": 10,
        "t": "c",
        "wtst": NOW - 999,
    }
    waypoint = {
        "_type": "waypoint",
        "desc": "Office",
        "lat": 48.85,
        "lon": 2.35,
        "rad": 50,
        "tst": NOW - 999,
    }
    for message in (transition, waypoint, {"_type": "lwt", "tst": NOW}):
        assert post_owntracks(issued, message).status_code == 200
    with user_context(owner.pk):
        kinds = sorted(Event.objects.values_list("kind", "title"))
    assert kinds == [("owntracks.transition", "leave Office"), ("owntracks.waypoint", "Office")]


def test_bad_fixes_go_to_quarantine_with_the_reason(owner):
    issued = _device(owner)
    future = NOW + 3 * 3600
    for message in (location(lat=123.0), location(tst=future), location(acc=5_000_000)):
        assert post_owntracks(issued, message).status_code == 200
    assert points_of(owner) == []
    with user_context(owner.pk):
        reasons = sorted(Quarantine.objects.values_list("reason", flat=True))
    assert len(reasons) == 3
    assert any("outside the globe" in r for r in reasons)
    assert any("in the future" in r for r in reasons)
    assert any("absurd accuracy: 5000000.0 m" in r for r in reasons)


def test_credentials_are_per_device_and_revoking_stops_one(owner, outsider, client):
    phone = _device(owner)
    tablet = _device(owner, name="tablet")

    assert post_owntracks(phone, location(), username="outsider").status_code == 401
    assert post_owntracks(phone, location(), HTTP_X_LIMIT_U="outsider").status_code == 400
    wrong = Client().post(
        "/api/devices/owntracks/",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=basic("owner", "dpd_guessed"),
    )
    assert wrong.status_code == 401 and "WWW-Authenticate" in wrong

    client.force_login(owner)
    assert client.post(f"/devices/{phone.device.pk}/revoke/").status_code == 302
    assert post_owntracks(phone, location()).status_code == 401
    assert post_owntracks(tablet, location()).status_code == 200
    client.force_login(outsider)  # someone else's device cannot be revoked by them
    client.post(f"/devices/{tablet.device.pk}/revoke/")
    assert post_owntracks(tablet, location(tst=NOW - 1)).status_code == 200
    assert len(points_of(owner)) == 2


def test_overland_batch_answers_ok_after_commit(owner):
    issued = _device(owner, kind="overland")
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-122.4194 + i / 1000, 37.7749]},
            "properties": {
                "timestamp": f"2026-01-0{i + 1}T10:00:00Z",
                "horizontal_accuracy": 5,
                "speed": 1.5,
                "altitude": 20,
                "battery_level": 0.5,
                "motion": ["walking"],
            },
        }
        for i in range(3)
    ]
    url = f"/api/devices/overland/?token={issued.credential}"

    response = Client().post(
        url, data=json.dumps({"locations": features}), content_type="application/json"
    )
    broken = Client().post(url, data='{"locations": 3}', content_type="application/json")
    not_json = Client().post(url, data="{", content_type="application/json")

    assert response.status_code == 200 and response.json() == {"result": "ok"}
    assert broken.status_code == 400 and "locations" in broken.json()["detail"]
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["detail"]
    points = points_of(owner)
    assert [p.source for p in points] == ["overland"] * 3
    assert points[0].data == {"battery_level": 0.5, "motion": ["walking"], "device": "phone"}


def test_gpslogger_custom_url(owner):
    issued = _device(owner, kind="gpslogger")
    response = Client().get(
        "/api/devices/gpslogger/",
        {
            "token": issued.credential,
            "lat": "51.5",
            "lon": "-0.12",
            "time": "2026-02-01T09:00:00.000Z",
            "acc": "8.5",
            "alt": "30",
            "spd": "2",
            "dir": "270",
            "batt": "66",
        },
    )
    missing = Client().get("/api/devices/gpslogger/", {"token": issued.credential, "lat": "1"})

    assert response.status_code == 200 and response.content == b"OK"
    assert missing.status_code == 400 and "lon" in missing.json()["detail"]
    [point] = points_of(owner)
    assert (point.accuracy_m, point.velocity_mps, point.heading_deg) == (8.5, 2.0, 270.0)
    assert point.data == {"batt": "66", "device": "phone"}


def test_devices_page_shows_the_credential_once(owner, client):
    client.force_login(owner)
    made = client.post("/devices/", {"name": "pixel", "kind": "owntracks"})
    assert made.status_code == 200
    with user_context(owner.pk):
        device = one_of(owner, Device)
    credential = made.context["issued"].credential
    assert credential in made.content.decode()
    assert device.credential_hash != credential and credential not in device.credential_hash
    again = client.get("/devices/")
    assert credential not in again.content.decode() and "pixel" in again.content.decode()
    taken = client.post("/devices/", {"name": "pixel", "kind": "overland"})
    assert taken.status_code == 400 and "already have a device named" in taken.content.decode()


async def test_a_phones_fix_arrives_on_the_owners_socket(make_user):
    owner = await sync_to_async(make_user)("owner")
    issued = await sync_to_async(_device)(owner)
    socket = _communicator(await sync_to_async(_session_cookie)(owner))
    assert (await socket.connect(timeout=15))[0]

    response = await sync_to_async(post_owntracks)(issued, location())

    assert response.status_code == 200
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "location.stored"
    assert message["data"]["points"] == [
        {
            "lat": 48.8566,
            "lon": 2.3522,
            "at": datetime.fromtimestamp(NOW - 60, UTC).isoformat().replace("+00:00", "Z"),
            "accuracy_m": 12.0,
            "device": "phone",
        }
    ]
    await socket.disconnect()
