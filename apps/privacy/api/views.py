"""Privacy API: exports of all my data, and delete-my-data. Thin: validate, call a service."""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api_errors import api_error
from apps.core.queueing import QueueUnavailable, queue_now
from apps.core.signin_limit import PasswordCheckLimited, password_check
from apps.privacy.audit import audit_record, request_ip
from apps.privacy.deletion import running_import
from apps.privacy.exports import export_create, export_path
from apps.privacy.models import Export

from .serializers import DeleteMyDataSerializer, ExportSerializer

logger = logging.getLogger(__name__)


QUEUE_DOWN = "the job queue (Redis) does not answer; nothing was changed, try again later"


def _queued(task, *args) -> bool:
    """Queue ``task`` through the one helper; False when the broker refused it (logged)."""
    try:
        queue_now(task, *args)
    except QueueUnavailable:
        return False
    return True


def _signed_in_user(request: Request) -> User:
    """IsAuthenticated (the default permission) has ruled out AnonymousUser."""
    user = request.user
    assert isinstance(user, User)
    return user


class ExportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Zips of everything the signed-in user owns. POST starts one (a Celery job);
    its progress is on the row and on the live feed (``export.progress``)."""

    serializer_class = ExportSerializer

    def get_queryset(self):
        return Export.objects.filter(user=self.request.user).order_by("-created_at")

    @extend_schema(request=None, responses={202: ExportSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        from apps.privacy.tasks import run_export

        user = _signed_in_user(request)
        export = export_create(user_id=user.pk, ip=request_ip(request._request))

        def queue() -> None:
            if not _queued(run_export, export.user_id, export.pk):
                export.fail(QUEUE_DOWN)

        transaction.on_commit(queue)
        export.refresh_from_db()
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/zip"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        export = self.get_object()
        path = export_path(export)
        if export.status != Export.Status.DONE or not path.is_file():
            raise Http404("this export is not ready")
        audit_record(
            action="export.downloaded",
            user_id=export.user_id,
            actor_id=request.user.pk,
            target=f"export:{export.pk}",
            ip=request_ip(request._request),
        )
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=f"datapunk-export-{export.pk}.zip",
            content_type="application/zip",
        )


class DeleteMyDataView(APIView):
    """Remove every row the signed-in user owns in every app (a Celery job).

    Asks for the account's password, or, for an account without one (signed
    up through a provider), ``confirm`` with the username typed out.
    ``delete_account`` also closes the account.
    """

    @extend_schema(request=DeleteMyDataSerializer, responses={202: None})
    def post(self, request: Request) -> Response:
        from apps.privacy.tasks import run_user_data_delete

        data = DeleteMyDataSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _signed_in_user(request)
        password = data.validated_data.get("password") or ""
        confirm = data.validated_data.get("confirm") or ""
        if user.has_usable_password():
            try:
                right = password_check(request._request, user, password)
            except PasswordCheckLimited as exc:
                raise Throttled(detail=exc.message) from None
            if not right:
                raise ValidationError({"password": "that is not your password"})
        elif confirm != user.get_username():
            raise ValidationError({"confirm": "type your username to confirm"})
        delete_account = data.validated_data["delete_account"]
        blocked = running_import(user.pk)
        if blocked:
            return api_error(blocked, status=status.HTTP_409_CONFLICT)
        ip = request_ip(request._request)
        audit_record(
            action="delete.requested",
            user_id=user.pk,
            actor_id=user.pk,
            target="account" if delete_account else "data",
            ip=ip,
        )
        queued = [True]

        def queue() -> None:
            queued[0] = _queued(run_user_data_delete, user.pk, user.pk, ip, delete_account)

        transaction.on_commit(queue)  # at once outside a transaction, as in a request
        if not queued[0]:
            return api_error(QUEUE_DOWN, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "queued", "delete_account": delete_account}, status=202)
