"""Inbound webhooks (one view per provider) and the live feed page. Thin: the
verifying and storing is in apps/stream/webhooks/."""

from __future__ import annotations

import logging
from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.api_errors import json_error
from apps.core.db.context import user_context
from apps.stream.bodies import BodyTooLarge, read_capped_body
from apps.stream.selectors import feed_recent_events, ingest_key_of
from apps.stream.webhooks import microsoft, twitch
from apps.stream.webhooks.twitch import DeliveryRefused

logger = logging.getLogger(__name__)


def _refused(exc: DeliveryRefused, provider: str) -> JsonResponse:
    logger.info("%s webhook refused (%s): %s", provider, exc.status, exc.message)
    return json_error(exc.message, status=exc.status)


@csrf_exempt  # signed by the provider; there is no session
@require_POST
def twitch_eventsub(request: HttpRequest) -> HttpResponse:
    try:
        body = read_capped_body(request, twitch.MAX_BODY)
        outcome = twitch.twitch_delivery_receive(
            headers=dict(request.META), body=body, now=timezone.now()
        )
    except BodyTooLarge as exc:
        return json_error(exc.message, status=413)
    except DeliveryRefused as exc:
        return _refused(exc, "twitch")
    if outcome.text:  # the challenge, raw, as Twitch requires
        return HttpResponse(outcome.text, content_type="text/plain", status=outcome.status)
    return HttpResponse(status=outcome.status)


@csrf_exempt  # authenticated by clientState; there is no session
@require_POST
def microsoft_graph(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("validationToken")
    if token is not None:
        if len(token) > microsoft.MAX_VALIDATION_TOKEN:
            return json_error("validationToken is too long.")
        # Graph waits for its token back as text/plain before it creates the subscription.
        return HttpResponse(token, content_type="text/plain", status=200)
    try:
        body = read_capped_body(request, microsoft.MAX_BODY)
        outcome = microsoft.graph_notifications_receive(body=body, now=timezone.now())
    except BodyTooLarge as exc:
        return json_error(exc.message, status=413)
    except DeliveryRefused as exc:
        return _refused(exc, "microsoft")
    return JsonResponse({"written": outcome.written, "duplicate": outcome.duplicate}, status=202)


@login_required
def feed(request: HttpRequest) -> HttpResponse:
    user_id = cast(int, request.user.pk)  # login_required: a real user
    with user_context(user_id):
        return render(
            request,
            "stream/feed.html",
            {
                "events": feed_recent_events(user_id=user_id),
                "ingest_key": ingest_key_of(user_id=user_id),
            },
        )
