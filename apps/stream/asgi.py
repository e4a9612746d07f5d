"""The stream's single-record endpoints served straight from ASGI, in front of Django.

What daphne serves: a request to one of the three device paths is answered
here (apps/stream/devices/endpoints.py), and a request to the ingest
endpoint that carries no cookie (a key, a signature or a token: no session)
goes straight to its async view; every other request goes on to Django.
Django's request cycle would run a dozen sync middleware on a fresh thread
per request; a phone's fix or a script's event needs none of them (no
session, no CSRF, no page). What they would have done that matters here is
done here too: the Host check (ALLOWED_HOSTS), the body cap, the JSON depth
guard, the security headers on the answer. Not done: Prometheus' per-view
request metrics do not count these requests.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.http.request import split_domain_port, validate_host
from django.urls import reverse

from apps.core.middleware import json_depth_exceeds
from apps.stream.api.ingest import ingest_events
from apps.stream.devices.endpoints import (
    DEVICE_MAX_BYTES,
    GPSLOGGER,
    OVERLAND,
    OWNTRACKS,
    DeviceAnswer,
    DeviceRequest,
    Endpoint,
    device_request_answer,
    refusal,
)

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]

# What SecurityMiddleware and the CSP middleware put on a JSON answer.
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


class _TooLarge(Exception):
    pass


def _host_allowed(host: str) -> bool:
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # as Django's get_host
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


async def _body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when the client went away; _TooLarge above ``limit``."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, answer: DeviceAnswer) -> None:
    headers = [
        (b"content-type", answer.content_type.encode()),
        (b"content-length", str(len(answer.body)).encode()),
        *_SECURITY_HEADERS,
        *((name.lower().encode(), value.encode("latin-1")) for name, value in answer.headers),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _guarded_body(
    scope: Scope, receive: Receive, send: Send, headers: dict[str, str], limit: int
) -> bytes | None:
    """The request's body after the checks Django's middleware makes on every other
    path (host, size, JSON depth); None when one refused it (the answer is sent)."""
    if not _host_allowed(headers.get("host", "")):
        await _send(send, refusal(400, "This host name is not served here."))
        return None
    try:
        body = await _body(scope, receive, limit)
    except _TooLarge:
        await _send(send, refusal(413, f"The request body is larger than {limit} bytes."))
        return None
    if body is None:
        return None
    if json_depth_exceeds(body, settings.DATAPUNK_MAX_JSON_DEPTH):
        depth = settings.DATAPUNK_MAX_JSON_DEPTH
        await _send(send, refusal(400, f"JSON nested too deeply: at most {depth} levels"))
        return None
    return body


async def _serve(endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    body = await _guarded_body(scope, receive, send, headers, DEVICE_MAX_BYTES)
    if body is None:
        return
    request = DeviceRequest(
        method=scope["method"],
        headers=headers,
        query=dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)),
        body=body,
    )
    try:
        answer = await device_request_answer(endpoint, request)
    except Exception:
        logger.exception("device request on %s failed", scope["path"])
        answer = refusal(500, "The server could not store this request; send it again.")
    await _send(send, answer)


async def _serve_ingest(scope: Scope, receive: Receive, send: Send) -> None:
    """The ingest view, called as Django would call it, minus the middleware."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    body = await _guarded_body(scope, receive, send, headers, settings.DATAPUNK_MAX_REQUEST_BYTES)
    if body is None:
        return
    try:
        response: HttpResponse = await ingest_events(ASGIRequest(scope, io.BytesIO(body)))
    except Exception:
        logger.exception("ingest request failed")
        await _send(send, refusal(500, "The server could not store this request; send it again."))
        return
    await _send(
        send,
        DeviceAnswer(
            response.status_code,
            response.content,
            response.get("Content-Type", "application/json"),
            tuple((name, value) for name, value in response.items() if name != "Content-Type"),
        ),
    )


def stream_endpoints_in_front_of(app: ASGIApp) -> ASGIApp:
    """``app`` with the devices' paths and the ingest path (as urls.py names
    them) answered here."""
    devices = {
        reverse("device-owntracks"): OWNTRACKS,
        reverse("device-overland"): OVERLAND,
        reverse("device-gpslogger"): GPSLOGGER,
    }
    ingest = reverse("ingest-events")

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            root = scope.get("root_path", "")
            path = path[len(root) :] if root and path.startswith(root) else path
            endpoint = devices.get(path)
            if endpoint is not None:
                await _serve(endpoint, scope, receive, send)
                return
            if path == ingest and not any(name == b"cookie" for name, _ in scope["headers"]):
                await _serve_ingest(scope, receive, send)
                return
        await app(scope, receive, send)

    return application
