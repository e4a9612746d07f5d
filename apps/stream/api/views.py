"""Ingest key API: see, make and revoke the credentials of the ingest endpoint."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.db.context import user_context
from apps.stream.api.serializers import IngestKeySerializer, IssuedIngestKeySerializer
from apps.stream.models import IngestKey
from apps.stream.services import ingest_key_delete, ingest_key_rotate


def _user_id(request: Request) -> int:
    return cast(int, request.user.pk)  # IsAuthenticated (the default) admits only users


class IngestKeyView(APIView):
    """Your ingest key: GET says which one is active, POST makes a new one (the API
    key and HMAC secret are shown in that answer only), DELETE revokes it."""

    @extend_schema(responses={200: IngestKeySerializer})
    def get(self, request: Request) -> Response:
        key = IngestKey.objects.filter(user_id=_user_id(request)).first()
        if key is None:
            return Response(
                {"detail": "You have no ingest key yet; POST here to make one."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(IngestKeySerializer(key).data)

    @extend_schema(request=None, responses={201: IssuedIngestKeySerializer})
    def post(self, request: Request) -> Response:
        user_id = _user_id(request)
        with user_context(user_id):
            issued = ingest_key_rotate(user_id=user_id, ip=request.META.get("REMOTE_ADDR"))
        return Response(IssuedIngestKeySerializer(issued).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        user_id = _user_id(request)
        with user_context(user_id):
            ingest_key_delete(user_id=user_id, ip=request.META.get("REMOTE_ADDR"))
        return Response(status=status.HTTP_204_NO_CONTENT)
