"""The Devices page, and the devices' endpoints as Django views. Thin: the
endpoints are endpoints.py's, reading is in protocols.py, storing in services.py."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.db.context import user_context
from apps.stream.bodies import BodyTooLarge, read_capped_body
from apps.stream.devices.endpoints import (
    DEVICE_MAX_BYTES,
    GPSLOGGER,
    OVERLAND,
    OWNTRACKS,
    DeviceRequest,
    Endpoint,
    device_request_answer,
    refusal,
)
from apps.stream.devices.mqtt import broker_address
from apps.stream.devices.selectors import devices_of
from apps.stream.devices.services import (
    DeviceNameTaken,
    device_create,
    device_revoke,
)
from apps.stream.models import Device


def _device_view(endpoint: Endpoint) -> Callable[[HttpRequest], Coroutine[Any, Any, HttpResponse]]:
    """The Django view of an endpoint (daphne serves them through asgi.py instead)."""

    @csrf_exempt  # a device holds a credential, not a session
    async def view(request: HttpRequest) -> HttpResponse:
        try:
            body = read_capped_body(request, DEVICE_MAX_BYTES)
        except BodyTooLarge as exc:
            answer = refusal(413, exc.message)
        else:
            answer = await device_request_answer(
                endpoint,
                DeviceRequest(
                    method=request.method or "GET",
                    headers={name.lower(): value for name, value in request.headers.items()},
                    query=request.GET.dict(),
                    body=body,
                ),
            )
        response = HttpResponse(answer.body, content_type=answer.content_type, status=answer.status)
        for name, value in answer.headers:
            response[name] = value
        return response

    return view


owntracks = _device_view(OWNTRACKS)
overland = _device_view(OVERLAND)
gpslogger = _device_view(GPSLOGGER)


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
