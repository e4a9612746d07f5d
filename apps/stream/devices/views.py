"""The devices' endpoints (one per app protocol) and the Devices page. Thin:
reading is in protocols.py, storing in services.py."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.api_errors import json_error
from apps.core.db.connections import connection_keep_healthy
from apps.core.db.context import user_context
from apps.stream.api.ingest import ingest_pool
from apps.stream.bodies import BodyTooLarge, read_capped_body
from apps.stream.devices import protocols
from apps.stream.devices.mqtt import broker_address
from apps.stream.devices.protocols import ProtocolError
from apps.stream.devices.selectors import devices_of
from apps.stream.devices.services import (
    DeviceItem,
    DeviceNameTaken,
    device_authenticate,
    device_create,
    device_items_store,
    device_records_check,
    device_revoke,
)
from apps.stream.group_commit import committer
from apps.stream.models import Device

# An Overland batch of 200-odd fixes is well below this.
DEVICE_MAX_BYTES = 1024 * 1024
REALM = 'Basic realm="datapunk-devices"'


def _device_of(request: HttpRequest) -> Device | None:
    """The device by HTTP Basic (username + device credential), Bearer, or ?token=."""
    words = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(words) == 2 and words[0].lower() == "basic":
        try:
            username, _, password = base64.b64decode(words[1]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return device_authenticate(credential=password, username=username)
    if len(words) == 2 and words[0].lower() == "bearer":
        return device_authenticate(credential=words[1])
    return device_authenticate(credential=request.GET.get("token", ""))


def _refused(status: int, detail: str) -> JsonResponse:
    response = json_error(detail, status=status)
    if status == 401:
        response["WWW-Authenticate"] = REALM
    return response


def _device_endpoint(
    read: Callable[[HttpRequest, Device], list], answer: Callable[[], HttpResponse]
) -> Callable[[HttpRequest], Coroutine[Any, Any, HttpResponse]]:
    def prepare(request: HttpRequest) -> DeviceItem | HttpResponse:
        device = _device_of(request)
        if device is None:
            return _refused(401, "This device credential is not valid (it may have been revoked).")
        try:
            records = read(request, device)
        except BodyTooLarge as exc:
            return _refused(413, exc.message)
        except ProtocolError as exc:
            return _refused(400, str(exc))
        return device_records_check(device=device, records=records)

    def inline(request: HttpRequest) -> HttpResponse:
        prepared = prepare(request)
        if isinstance(prepared, HttpResponse):
            return prepared
        device_items_store([prepared])  # committed when it returns
        return answer()

    def on_pool_thread(request: HttpRequest) -> DeviceItem | HttpResponse:
        connection_keep_healthy()  # kept from request to request, replaced when broken
        try:
            return prepare(request)
        finally:
            connection_keep_healthy()

    # Async, like the ingest endpoint (apps/stream/api/ingest.py, which says
    # why): the credential and the body are read on the ingest threads, and
    # requests that arrive together share one commit (group_commit.py).
    @csrf_exempt  # a device holds a credential, not a session
    async def view(request: HttpRequest) -> HttpResponse:
        pool = ingest_pool()
        if pool is None:
            return await sync_to_async(inline, thread_sensitive=True)(request)
        prepared = await sync_to_async(on_pool_thread, thread_sensitive=False, executor=pool)(
            request
        )
        if isinstance(prepared, HttpResponse):
            return prepared
        await committer(device_items_store).store(prepared)  # committed when it returns
        return answer()

    return view


def _owntracks(request: HttpRequest, device: Device) -> list:
    if request.method != "POST":
        raise ProtocolError("OwnTracks posts its messages here.")
    limit_user = request.headers.get("X-Limit-U")
    if limit_user and limit_user != device.user.get_username():
        raise ProtocolError("X-Limit-U names another user than the device's owner.")
    return protocols.owntracks_http_records(
        read_capped_body(request, DEVICE_MAX_BYTES),
        reported_device=request.headers.get("X-Limit-D", ""),
    )


def _overland(request: HttpRequest, device: Device) -> list:
    if request.method != "POST":
        raise ProtocolError("Overland posts its batches here.")
    return protocols.overland_records(read_capped_body(request, DEVICE_MAX_BYTES))


def _gpslogger(request: HttpRequest, device: Device) -> list:
    read_capped_body(request, DEVICE_MAX_BYTES)
    params = (
        request.GET.dict()
        if request.method == "GET"
        else {**request.GET.dict(), **request.POST.dict()}
    )
    return protocols.gpslogger_records(params)


# OwnTracks expects a JSON array (friends' locations and cards; we send none).
owntracks = _device_endpoint(_owntracks, lambda: JsonResponse([], safe=False))
# Overland deletes its queued fixes only on this exact answer, so it is sent after commit.
overland = _device_endpoint(_overland, lambda: JsonResponse({"result": "ok"}))
gpslogger = _device_endpoint(_gpslogger, lambda: HttpResponse("OK", content_type="text/plain"))


@login_required
def devices_page(request: HttpRequest) -> HttpResponse:
    user_id = cast(int, request.user.pk)  # login_required: a real user
    issued = error = None
    if request.method == "POST":
        try:
            with user_context(user_id):
                issued = device_create(
                    user_id=user_id,
                    name=request.POST.get("name", ""),
                    kind=_kind(request.POST.get("kind", "")),
                    ip=request.META.get("REMOTE_ADDR"),
                )
        except DeviceNameTaken as exc:
            error = str(exc)
    with user_context(user_id):
        return render(
            request,
            "stream/devices.html",
            {
                "devices": devices_of(user_id=user_id),
                "issued": issued,
                "error": error,
                "kinds": Device.Kind.choices,
                "base_url": request.build_absolute_uri("/")[:-1],
                "mqtt_port": broker_address(settings.MQTT_URL).port,
            },
            status=400 if error else 200,
        )


def _kind(value: str) -> str:
    return value if value in Device.Kind.values else Device.Kind.OWNTRACKS


@login_required
@require_POST
def device_revoke_view(request: HttpRequest, device_id: int) -> HttpResponse:
    user_id = cast(int, request.user.pk)
    with user_context(user_id):
        device_revoke(user_id=user_id, device_id=device_id, ip=request.META.get("REMOTE_ADDR"))
    return redirect("devices")
