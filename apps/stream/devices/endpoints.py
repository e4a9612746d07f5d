"""The devices' endpoints, apart from any web framework: a request in, an answer out.

Phones send one fix per request, hundreds a second on a busy server, so a
request should cost a few hundred microseconds, not Django's request cycle
(a dozen sync middleware, each request on a fresh thread under ASGI). These
endpoints need none of that: no session, no CSRF, no template. So they are
served twice from this one module: by a small ASGI handler in front of Django
(asgi.py: what daphne serves) and by thin Django views (views.py: what the
test client and a plain WSGI server reach). Both build a DeviceRequest and
send back the DeviceAnswer.

Per request, on the event loop: the credential (remembered once verified,
credentials.py), the app's protocol (protocols.py), the fixes' checks; then
the group commit (group_commit.py) stores the requests that arrived together
in one transaction, which also refuses a device revoked meanwhile. A
credential not yet remembered, or a large body (an Overland batch), is
handled on the ingest threads instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings

from apps.core.api_errors import error_body
from apps.core.db.connections import connection_keep_healthy
from apps.core.middleware import json_depth_exceeds
from apps.stream.api.ingest import ingest_pool
from apps.stream.devices import protocols
from apps.stream.devices.credentials import known_device
from apps.stream.devices.protocols import ProtocolError
from apps.stream.devices.services import (
    DeviceItem,
    DeviceOutcome,
    credential_hash,
    device_authenticate,
    device_items_store,
    device_owned_by,
    device_records_check,
)
from apps.stream.group_commit import committer
from apps.stream.models import Device

# An Overland batch of 200-odd fixes is well below this.
DEVICE_MAX_BYTES = 1024 * 1024
# Bodies up to this are read on the event loop (a phone's fix is ~200 bytes);
# larger ones on the ingest threads, so a batch does not hold up the loop.
READ_ON_LOOP_BYTES = 16 * 1024
REALM = 'Basic realm="datapunk-devices"'
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    method: str
    headers: Mapping[str, str]  # names in lower case
    query: Mapping[str, str]  # the last value of each name
    body: bytes


@dataclass(frozen=True, slots=True)
class DeviceAnswer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def refusal(status: int, detail: str) -> DeviceAnswer:
    """``{"detail": ...}``, the project's one error shape (apps/core/api_errors.py)."""
    headers = (("WWW-Authenticate", REALM),) if status == 401 else ()
    return DeviceAnswer(status, orjson.dumps(error_body(detail)), headers=headers)


NOT_VALID = "This device credential is not valid (it may have been revoked)."


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    read: Callable[[DeviceRequest, Device], list]  # the request's records; ProtocolError
    ok: DeviceAnswer  # sent once the records are committed


def _owntracks(request: DeviceRequest, device: Device) -> list:
    if request.method != "POST":
        raise ProtocolError("OwnTracks posts its messages here.")
    limit_user = request.headers.get("x-limit-u")
    if limit_user and limit_user != device.user.get_username():
        raise ProtocolError("X-Limit-U names another user than the device's owner.")
    return protocols.owntracks_http_records(
        request.body, reported_device=request.headers.get("x-limit-d", "")
    )


def _overland(request: DeviceRequest, device: Device) -> list:
    if request.method != "POST":
        raise ProtocolError("Overland posts its batches here.")
    return protocols.overland_records(request.body)


def _gpslogger(request: DeviceRequest, device: Device) -> list:
    params = dict(request.query)
    if request.method != "GET" and request.headers.get("content-type", "").startswith(FORM):
        params.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    return protocols.gpslogger_records(params)


# OwnTracks expects a JSON array (friends' locations and cards; we send none).
OWNTRACKS = Endpoint("owntracks", _owntracks, DeviceAnswer(200, b"[]"))
# Overland deletes its queued fixes only on this exact answer, so it is sent after commit.
OVERLAND = Endpoint("overland", _overland, DeviceAnswer(200, b'{"result":"ok"}'))
GPSLOGGER = Endpoint("gpslogger", _gpslogger, DeviceAnswer(200, b"OK", "text/plain"))


def credential_of(request: DeviceRequest) -> tuple[str, str | None] | None:
    """(credential, user name or None) from HTTP Basic, Bearer, or ``?token=``;
    None when the Basic header cannot be read."""
    words = request.headers.get("authorization", "").split()
    if len(words) == 2 and words[0].lower() == "basic":
        try:
            username, _, password = base64.b64decode(words[1]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password, username
    if len(words) == 2 and words[0].lower() == "bearer":
        return words[1], None
    return request.query.get("token", ""), None


def _records_check(
    endpoint: Endpoint, request: DeviceRequest, device: Device
) -> DeviceItem | DeviceAnswer:
    """The request's fixes read and judged (no database)."""
    if (
        request.body
        and not request.headers.get("content-type", "").startswith(FORM)
        and json_depth_exceeds(request.body, settings.DATAPUNK_MAX_JSON_DEPTH)
    ):
        return refusal(
            400, f"JSON nested too deeply: at most {settings.DATAPUNK_MAX_JSON_DEPTH} levels"
        )
    try:
        records = endpoint.read(request, device)
    except ProtocolError as exc:
        return refusal(400, str(exc))
    return device_records_check(device=device, records=records)


def device_request_prepare(endpoint: Endpoint, request: DeviceRequest) -> DeviceItem | DeviceAnswer:
    """Who sends and what, ready to store; or the answer refusing it. May query
    the database (a credential not remembered yet)."""
    credential = credential_of(request)
    device = (
        None
        if credential is None
        else device_authenticate(credential=credential[0], username=credential[1])
    )
    if device is None:
        return refusal(401, NOT_VALID)
    return _records_check(endpoint, request, device)


def _prepare_on_pool_thread(
    endpoint: Endpoint, request: DeviceRequest
) -> DeviceItem | DeviceAnswer:
    connection_keep_healthy()  # the thread keeps its connection; a broken one is replaced
    try:
        return device_request_prepare(endpoint, request)
    finally:
        connection_keep_healthy()


def _answer(endpoint: Endpoint, outcome: DeviceOutcome) -> DeviceAnswer:
    return refusal(401, NOT_VALID) if outcome.refused else endpoint.ok


def device_request_answer_inline(endpoint: Endpoint, request: DeviceRequest) -> DeviceAnswer:
    """The whole request on the calling thread, stored alone (no ingest threads)."""
    prepared = device_request_prepare(endpoint, request)
    if isinstance(prepared, DeviceAnswer):
        return prepared
    return _answer(endpoint, device_items_store([prepared])[0])


async def device_request_answer(endpoint: Endpoint, request: DeviceRequest) -> DeviceAnswer:
    """The answer to a device's request, sent only after its fixes are committed."""
    pool = ingest_pool()
    if pool is None:
        return await sync_to_async(device_request_answer_inline, thread_sensitive=True)(
            endpoint, request
        )
    prepared: DeviceItem | DeviceAnswer | None = None
    credential = credential_of(request)
    if credential is None:
        return refusal(401, NOT_VALID)
    if len(request.body) <= READ_ON_LOOP_BYTES and credential[0]:
        device = known_device(credential_hash(credential[0]))
        if device is not None:  # remembered: no thread, no query
            if not device_owned_by(device, credential[1]):
                return refusal(401, NOT_VALID)
            prepared = _records_check(endpoint, request, device)
    if prepared is None:
        prepared = await sync_to_async(
            _prepare_on_pool_thread, thread_sensitive=False, executor=pool
        )(endpoint, request)
    if isinstance(prepared, DeviceAnswer):
        return prepared
    return _answer(endpoint, await committer(device_items_store).store(prepared))
