"""The devices' endpoints and keyed ingest as daphne serves them: answered in
front of Django (apps/stream/asgi.py), with a device's credential remembered,
and still refusing a device revoked elsewhere, an unknown host, an oversized
or too deeply nested body and a replayed signature."""

from __future__ import annotations

import base64
import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.utils import timezone

from apps.core.db.context import user_context
from apps.lake.models import Event, LocationPoint
from apps.stream.asgi import stream_endpoints_in_front_of
from apps.stream.devices.credentials import known_device
from apps.stream.devices.endpoints import DEVICE_MAX_BYTES
from apps.stream.devices.services import credential_hash, device_create
from apps.stream.models import Device, IngestKey
from apps.stream.services import ingest_key_rotate

from .conftest import signed_headers

pytestmark = pytest.mark.django_db(transaction=True)

NOW = int(time.time())


async def django_stand_in(scope, receive, send):
    """Where every other path goes (Django, in datapunk/asgi.py)."""
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": scope["path"].encode()})


app = stream_endpoints_in_front_of(django_stand_in)


def _device(user):
    with user_context(user.pk):
        return device_create(user_id=user.pk, name="phone", kind="owntracks")


def _points(user) -> list[LocationPoint]:
    with user_context(user.pk):
        return list(LocationPoint.objects.order_by("recorded_at"))


async def post_fix(
    credential: str, *, username="owner", tst=NOW - 60, host=b"localhost", body=None
):
    fix = {"_type": "location", "tst": tst, "lat": 48.8566, "lon": 2.3522, "acc": 12}
    auth = base64.b64encode(f"{username}:{credential}".encode())
    communicator = HttpCommunicator(
        app,
        "POST",
        "/api/devices/owntracks/",
        body=json.dumps(fix).encode() if body is None else body,
        headers=[
            (b"host", host),
            (b"authorization", b"Basic " + auth),
            (b"content-type", b"application/json"),
        ],
    )
    return await communicator.get_response(timeout=30)


async def test_a_fix_is_stored_once_and_answered_after_commit(make_user):
    owner = await sync_to_async(make_user)("owner")
    issued = await sync_to_async(_device)(owner)

    first = await post_fix(issued.credential)
    again = await post_fix(issued.credential)  # the phone resends: stored once

    assert first["status"] == again["status"] == 200
    assert first["body"] == b"[]"  # what OwnTracks expects
    assert (b"x-content-type-options", b"nosniff") in first["headers"]
    points = await sync_to_async(_points)(owner)
    assert len(points) == 1
    assert points[0].data["device"] == "phone" and points[0].source == "owntracks"
    assert known_device(credential_hash(issued.credential)) is not None  # remembered


async def test_a_device_revoked_in_another_process_is_refused_at_once(make_user):
    owner = await sync_to_async(make_user)("owner")
    issued = await sync_to_async(_device)(owner)
    assert (await post_fix(issued.credential))["status"] == 200  # now remembered here

    def revoke_elsewhere():  # as another daphne process would: this one's memory is not told
        with user_context(owner.pk):
            Device.objects.filter(pk=issued.device.pk).update(revoked_at=timezone.now())

    await sync_to_async(revoke_elsewhere)()
    refused = await post_fix(issued.credential, tst=NOW - 30)

    assert refused["status"] == 401
    assert (b"www-authenticate", b'Basic realm="datapunk-devices"') in refused["headers"]
    assert len(await sync_to_async(_points)(owner)) == 1  # the fix after revocation is not stored
    assert known_device(credential_hash(issued.credential)) is None  # and forgotten


async def test_wrong_owner_unknown_host_and_large_bodies_are_refused(make_user):
    owner = await sync_to_async(make_user)("owner")
    issued = await sync_to_async(_device)(owner)

    assert (await post_fix(issued.credential, username="someone-else"))["status"] == 401
    assert (await post_fix("dpd_guessed"))["status"] == 401
    assert (await post_fix(issued.credential, host=b"evil.example"))["status"] == 400
    large = await post_fix(issued.credential, body=b"[" + b" " * DEVICE_MAX_BYTES + b"]")
    assert large["status"] == 413
    deep = await post_fix(issued.credential, body=b"[" * 200 + b"]" * 200)
    assert deep["status"] == 400 and b"nested too deeply" in deep["body"]
    # Refused before anyone is asked for a login, as Django's middleware does elsewhere.
    deep_unknown = await post_fix("dpd_guessed", body=b"[" * 200 + b"]" * 200)
    assert deep_unknown["status"] == 400 and b"nested too deeply" in deep_unknown["body"]
    assert await sync_to_async(_points)(owner) == []


async def test_every_other_path_goes_on_to_django():
    communicator = HttpCommunicator(app, "GET", "/api/devices/owntracksX/")
    response = await communicator.get_response()
    assert response["status"] == 299 and response["body"] == b"/api/devices/owntracksX/"


def _key(user):
    with user_context(user.pk):
        return ingest_key_rotate(user_id=user.pk)


async def post_signed(key, body: bytes, *, cookie: bytes | None = None, signed=None):
    headers = [(b"host", b"localhost"), (b"content-type", b"application/json")]
    headers += [  # signed_headers names them as Django's META does: HTTP_X_DATAPUNK_KEY
        (name.removeprefix("HTTP_").replace("_", "-").lower().encode(), value.encode())
        for name, value in (signed or signed_headers(key, body)).items()
    ]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    communicator = HttpCommunicator(app, "POST", "/api/ingest/events/", body=body, headers=headers)
    return await communicator.get_response(timeout=30)


async def test_a_signed_event_is_stored_by_the_ingest_view_without_django_around_it(make_user):
    owner = await sync_to_async(make_user)("owner")
    key = await sync_to_async(_key)(owner)
    body = json.dumps({"kind": "mood.logged", "occurred_at": NOW - 5, "title": "Fine"}).encode()

    signed = signed_headers(key, body)
    stored = await post_signed(key, body, signed=signed)
    replayed = await post_signed(key, body, signed=signed)

    assert stored["status"] == 202, stored["body"]
    assert json.loads(stored["body"])["written"] == 1
    assert (b"x-content-type-options", b"nosniff") in stored["headers"]
    assert replayed["status"] == 409  # the replay guard holds on this path too

    def titles():
        with user_context(owner.pk):
            return list(Event.objects.values_list("title", flat=True))

    assert await sync_to_async(titles)() == ["Fine"]
    deep = await post_signed(key, b"[" * 200 + b"]" * 200)
    assert deep["status"] == 400 and b"nested too deeply" in deep["body"]


async def test_an_ingest_request_with_a_cookie_goes_through_django(make_user):
    owner = await sync_to_async(make_user)("owner")
    key = await sync_to_async(_key)(owner)
    response = await post_signed(key, b"{}", cookie=b"sessionid=x")
    assert response["status"] == 299  # the session's CSRF check is Django's


async def test_an_ingest_key_rotated_in_another_process_is_refused_at_once(make_user):
    owner = await sync_to_async(make_user)("owner")
    key = await sync_to_async(_key)(owner)
    first = json.dumps({"kind": "mood.logged", "occurred_at": NOW - 9, "title": "One"}).encode()
    assert (await post_signed(key, first))["status"] == 202  # the key is remembered now

    def rotate_elsewhere():  # as another process would: this one's memory is not told
        with user_context(owner.pk):
            IngestKey.objects.filter(user=owner).update(key_id="ik_rotated", key_hash="x" * 64)

    await sync_to_async(rotate_elsewhere)()
    later = json.dumps({"kind": "mood.logged", "occurred_at": NOW - 8, "title": "Two"}).encode()
    refused = await post_signed(key, later)

    assert refused["status"] == 401
    assert b"rotated or deleted" in refused["body"]

    def titles():
        with user_context(owner.pk):
            return list(Event.objects.values_list("title", flat=True))

    assert await sync_to_async(titles)() == ["One"]
    assert (await post_signed(key, later))["status"] == 401  # forgotten: looked up, not found
