"""Ingest API: store events sent by the user's own devices and scripts; manage the key."""

from __future__ import annotations

import orjson
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.privacy.context import user_context
from apps.stream.api.authentication import (
    IngestKeyAuthentication,
    IngestSignatureAuthentication,
    ingest_body,
)
from apps.stream.api.serializers import (
    IngestKeySerializer,
    IngestResultSerializer,
    IssuedIngestKeySerializer,
)
from apps.stream.models import IngestKey
from apps.stream.services import AlreadyDelivered, events_ingest, ingest_key_delete, ingest_key_rotate
from apps.stream.validation import IngestInvalid, events_from_payload


class IngestEventsView(APIView):
    """POST one event (an object) or a batch (an array, or ``{"events": [...]}``).

    202 once the events are committed, with how many were new and how many
    were already stored; 400 listing every bad field (with the event's index
    in a batch), and nothing stored; 401 without valid credentials; 409 for a
    signed request received before; 413 above the size cap.
    """

    authentication_classes = [
        IngestKeyAuthentication,
        IngestSignatureAuthentication,
        TokenAuthentication,
        SessionAuthentication,
    ]

    @extend_schema(request=None, responses={202: IngestResultSerializer})
    def post(self, request: Request) -> Response:
        received_at = timezone.now()
        body = ingest_body(request)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return Response(
                {"detail": f"The body is not valid JSON: {exc}.", "errors": []},
                status=status.HTTP_400_BAD_REQUEST,
            )
        # Which credential brought the events (kept in their provenance).
        connector = getattr(request._request, "ingest_connector", None) or (
            "ingest.token" if request.auth is not None else "ingest.session"
        )
        try:
            records = events_from_payload(payload, connector=connector, received_at=received_at)
        except IngestInvalid as invalid:
            return Response(
                {"detail": invalid.summary, "errors": [e.as_dict() for e in invalid.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            with user_context(request.user.pk):
                result = events_ingest(
                    user_id=request.user.pk,
                    records=list(records),
                    replay_guard=getattr(request._request, "ingest_replay_guard", None),
                    now=received_at,
                )
        except AlreadyDelivered:
            return Response(
                {"detail": "This signed request was received before; nothing was stored again."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {
                "received": len(records),
                "written": result.written,
                "duplicate": result.duplicate,
                "quarantined": result.quarantined,
                "event_ids": result.event_ids,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class IngestKeyView(APIView):
    """Your ingest key: GET says which one is active, POST makes a new one (the API
    key and HMAC secret are shown in that answer only), DELETE revokes it."""

    @extend_schema(responses={200: IngestKeySerializer})
    def get(self, request: Request) -> Response:
        key = IngestKey.objects.filter(user=request.user).first()
        if key is None:
            return Response(
                {"detail": "You have no ingest key yet; POST here to make one."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(IngestKeySerializer(key).data)

    @extend_schema(request=None, responses={201: IssuedIngestKeySerializer})
    def post(self, request: Request) -> Response:
        with user_context(request.user.pk):
            issued = ingest_key_rotate(user_id=request.user.pk, ip=request.META.get("REMOTE_ADDR"))
        return Response(
            IssuedIngestKeySerializer(issued).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        with user_context(request.user.pk):
            ingest_key_delete(user_id=request.user.pk, ip=request.META.get("REMOTE_ADDR"))
        return Response(status=status.HTTP_204_NO_CONTENT)
