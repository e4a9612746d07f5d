"""Lake API: resumable uploads and imports. Thin: validate, call a service, answer."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api_errors import api_error, bad_request, queue_unavailable
from apps.core.queueing import QueueUnavailable, queue_now
from apps.lake.archive import ArchiveRejected
from apps.lake.models import Import, Upload
from apps.lake.quarantine_display import quarantine_for_display
from apps.lake.selectors import quarantine_of
from apps.lake.services import ImportProgress, TakeoutImportError
from apps.lake.uploads import (
    InsufficientStorage,
    OffsetMismatch,
    UploadError,
    UploadGone,
    UploadsNotReady,
    UploadTooLarge,
    import_from_uploads,
    upload_append,
    upload_complete,
    upload_create,
    upload_delete,
)

from .serializers import (
    ImportCreateSerializer,
    ImportDetailSerializer,
    ImportSerializer,
    QuarantineSerializer,
    UploadCreateSerializer,
    UploadSerializer,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _signed_in_user(request: Request) -> User:
    """The request's user; IsAuthenticated (the default permission) rules out AnonymousUser."""
    user = request.user
    assert not isinstance(user, AnonymousUser)
    return user


def _refused(exc: UploadError) -> Response:
    """413 for what the limits refuse, 507 for what the disk cannot take."""
    code = (
        status.HTTP_507_INSUFFICIENT_STORAGE
        if isinstance(exc, InsufficientStorage)
        else status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    )
    return api_error(str(exc), status=code)


class RawChunkParser(BaseParser):
    """Leaves the body unread: the view streams it to disk."""

    media_type = "application/octet-stream"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream


class UploadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Resumable upload of an archive part.

    1. POST /api/uploads/ {filename, size, sha256}
    2. PUT /api/uploads/{id}/chunk/ with header Upload-Offset and the raw bytes
       (application/octet-stream), as many times as needed. After a dropped
       connection, GET /api/uploads/{id}/ tells `received`: resume from there.
    3. POST /api/uploads/{id}/complete/ verifies the checksum: 200 when done at
       once (the server hashed the chunks as they came), 202 while a worker
       hashes the file: poll GET /api/uploads/{id}/ until `status` is
       `complete`, or `receiving` again with `problem` saying why.
    4. POST /api/imports/ {uploads: [id, ...]} starts the import.
    5. DELETE /api/uploads/{id}/ frees the disk once that import has finished.
    """

    serializer_class = UploadSerializer
    ordering = "-created_at"

    def get_queryset(self):
        return Upload.objects.filter(user=self.request.user).order_by("-created_at")

    @extend_schema(responses={204: None, 404: None, 409: None})
    def destroy(self, request: Request, pk: str) -> Response:
        upload = self.get_object()
        try:
            upload_delete(upload_id=upload.pk)
        except UploadGone as exc:
            return api_error(str(exc), status=status.HTTP_404_NOT_FOUND)
        except UploadError as exc:
            return api_error(str(exc), status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=UploadCreateSerializer, responses={201: UploadSerializer})
    def create(self, request: Request) -> Response:
        data = UploadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            upload = upload_create(user=_signed_in_user(request), **data.validated_data)
        except (UploadTooLarge, InsufficientStorage) as exc:
            return _refused(exc)
        except UploadError as exc:
            raise bad_request(exc) from None
        return Response(UploadSerializer(upload).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"application/octet-stream": bytes},
        parameters=[OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER, required=True)],
        responses={200: UploadSerializer, 409: UploadSerializer},
    )
    @action(detail=True, methods=["put"], parser_classes=[RawChunkParser])
    def chunk(self, request: Request, pk: str) -> Response:
        upload = self.get_object()
        offset_header = request.headers.get("Upload-Offset", "")
        # Digits only: int() would also take "+0_0" or " 1 ".
        if not re.fullmatch(r"[0-9]{1,18}", offset_header):
            raise bad_request("the Upload-Offset header must be a byte offset (digits only)")
        length_header = request.headers.get("Content-Length", "")
        try:
            # DRF gives no stream for an empty body: an empty chunk adds nothing.
            body = request.stream or io.BytesIO()
            upload = upload_append(
                upload_id=upload.pk,
                offset=int(offset_header),
                body=body,
                length=int(length_header)
                if length_header.isascii() and length_header.isdigit()
                else None,
            )
        except (UploadTooLarge, InsufficientStorage) as exc:
            return _refused(exc)
        except OffsetMismatch as exc:
            upload.refresh_from_db()
            return Response(
                {**UploadSerializer(upload).data, "detail": str(exc)},
                status=status.HTTP_409_CONFLICT,
            )
        except UploadError as exc:
            raise bad_request(exc) from None
        return Response(UploadSerializer(upload).data)

    @extend_schema(
        request=None, responses={200: UploadSerializer, 202: UploadSerializer, 503: None}
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        from apps.lake.tasks import run_upload_verify

        upload = self.get_object()
        try:
            upload = upload_complete(upload_id=upload.pk)
        except UploadError as exc:
            raise bad_request(exc) from None
        if upload.status != Upload.Status.VERIFYING:
            return Response(UploadSerializer(upload).data)
        try:
            queue_now(run_upload_verify, upload.pk)
        except QueueUnavailable as exc:
            return queue_unavailable(
                f"the checksum check is not started: {exc}; ask to complete again in a few minutes",
                upload=UploadSerializer(upload).data,
            )
        return Response(UploadSerializer(upload).data, status=status.HTTP_202_ACCEPTED)


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Takeout imports of the signed-in user; POST starts one from completed uploads."""

    ordering = "-created_at"

    def get_queryset(self):
        return Import.objects.filter(user=self.request.user).order_by("-created_at")

    def get_serializer_class(self):
        return ImportDetailSerializer if self.action == "retrieve" else ImportSerializer

    @extend_schema(request=ImportCreateSerializer, responses={201: ImportSerializer})
    def create(self, request: Request) -> Response:
        from apps.lake.tasks import run_takeout_import

        data = ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            run = import_from_uploads(
                user=_signed_in_user(request), upload_ids=data.validated_data["uploads"]
            )
        except UploadsNotReady as exc:
            raise bad_request(exc) from None
        except (ArchiveRejected, TakeoutImportError) as exc:
            raise bad_request(f"rejected: {exc}") from None
        try:
            queue_now(run_takeout_import, run.pk)
        except QueueUnavailable as exc:
            return queue_unavailable(
                f"import {run.pk} is saved but not started: {exc}; try again in a few minutes",
                **{"import": ImportSerializer(run).data},
            )
        return Response(ImportSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, pk: str) -> Response:
        """Where the import is now, in the shape of the feed's import.progress data:
        a page reads it once its feed socket is open, for what it missed before."""
        return Response(ImportProgress.of(self.get_object()).as_dict())

    @extend_schema(responses={200: QuarantineSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def quarantine(self, request: Request, pk: str) -> Response:
        """The items this import could not store, each with its reason."""
        page = self.paginate_queryset(quarantine_of(self.get_object()))
        shown = quarantine_for_display(page or [])
        return self.get_paginated_response(QuarantineSerializer(shown, many=True).data)
