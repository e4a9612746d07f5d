"""POST /api/ingest/events/: one event (an object) or a batch (an array, or
``{"events": [...]}``) from the user's own devices and scripts.

202 once the events are committed, with how many were new and how many were
already stored; 400 listing every bad field (with the event's index in a
batch), nothing stored; 401 without valid credentials; 409 for a signed
request received before; 413 above the size cap.

An async view, on purpose. Under ASGI Django runs each sync view on a thread
of its own, and each such thread opens its own database connection: at
hundreds of requests a second that is a connection set up per request and,
in bursts, more connections than PostgreSQL allows. Here credentials and
validation run on a few long-lived threads (DATAPUNK_INGEST_THREADS) that
keep their connections, and storing goes through the loop's group committer
(apps/stream/group_commit.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from apps.core.db.connections import connection_keep_healthy
from apps.stream.api.authentication import (
    IngestKeyAuthentication,
    IngestSessionAuthentication,
    IngestSignatureAuthentication,
    ingest_body,
)
from apps.stream.group_commit import committer
from apps.stream.services import IngestItem, IngestOutcome, events_ingest_group
from apps.stream.validation import IngestInvalid, events_from_payload

AUTHENTICATORS = (
    IngestKeyAuthentication,
    IngestSignatureAuthentication,
    TokenAuthentication,
    IngestSessionAuthentication,  # checks CSRF itself
)
CHALLENGE = 'Bearer realm="datapunk-ingest"'


def _problem(status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = CHALLENGE
    return response


def _prepare(request: HttpRequest) -> IngestItem | JsonResponse:
    """Who sends, and what: an item to store, or the answer that refuses it."""
    received_at = timezone.now()
    drf_request = Request(request, authenticators=[cls() for cls in AUTHENTICATORS])
    try:
        # The body first, capped: the authenticators read it after (a signature covers
        # it; a session's CSRF check looks for a form token in it), and read from here.
        body = ingest_body(drf_request)
        user = drf_request.user  # runs the authenticators
        if not user.is_authenticated:
            return _problem(401, "Authentication credentials were not provided.")
    except (exceptions.AuthenticationFailed, exceptions.NotAuthenticated) as exc:
        return _problem(401, str(exc.detail))
    except exceptions.APIException as exc:  # CSRF of a session, the size cap
        return _problem(exc.status_code, str(exc.detail))
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _problem(400, f"The body is not valid JSON: {exc}.", [])
    # Which credential brought the events (kept in their provenance).
    connector = getattr(request, "ingest_connector", None) or (
        "ingest.token" if drf_request.auth is not None else "ingest.session"
    )
    try:
        records = events_from_payload(payload, connector=connector, received_at=received_at)
    except IngestInvalid as invalid:
        return _problem(400, invalid.summary, [e.as_dict() for e in invalid.errors])
    return IngestItem(
        user_id=user.pk,
        records=records,
        received_at=received_at,
        replay_guard=getattr(request, "ingest_replay_guard", None),
        key_id=getattr(request, "ingest_key_id", None),
    )


def _answer(item: IngestItem, outcome: IngestOutcome) -> JsonResponse:
    if outcome.revoked:
        return _problem(401, "This ingest key is not valid (it was rotated or deleted).")
    if outcome.replayed:
        return _problem(409, "This signed request was received before; nothing was stored again.")
    return JsonResponse(
        {
            "received": len(item.records),
            "written": outcome.written,
            "duplicate": outcome.duplicate,
            "quarantined": outcome.quarantined,
            "event_ids": outcome.event_ids,
        },
        status=202,
    )


def _prepare_on_pool_thread(request: HttpRequest) -> IngestItem | JsonResponse:
    # The thread keeps its connection from request to request (not
    # close_old_connections: with CONN_MAX_AGE 0 that reconnects every time).
    connection_keep_healthy()
    try:
        return _prepare(request)
    finally:
        connection_keep_healthy()


def _ingest_inline(request: HttpRequest) -> JsonResponse:
    prepared = _prepare(request)
    if isinstance(prepared, JsonResponse):
        return prepared
    return _answer(prepared, events_ingest_group(items=[prepared])[0])


_pools: dict[int, ThreadPoolExecutor] = {}


def ingest_pool() -> ThreadPoolExecutor | None:
    """The ingest threads; None (0 threads) runs ingest like an ordinary sync view."""
    size = settings.DATAPUNK_INGEST_THREADS
    if size <= 0:
        return None
    if size not in _pools:
        _pools[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="ingest")
    return _pools[size]


@csrf_exempt  # SessionAuthentication checks CSRF itself; keys and signatures need none
async def ingest_events(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _problem(405, f'Method "{request.method}" not allowed; POST events here.')
    pool = ingest_pool()
    if pool is None:  # Django's request cycle manages the connection, as for any view
        return await sync_to_async(_ingest_inline, thread_sensitive=True)(request)
    prepared = await sync_to_async(_prepare_on_pool_thread, thread_sensitive=False, executor=pool)(
        request
    )
    if isinstance(prepared, JsonResponse):
        return prepared
    return _answer(prepared, await committer().store(prepared))
