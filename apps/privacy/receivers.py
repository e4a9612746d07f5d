"""Signal receivers of the privacy app: audit entries for sign-ins (Django's auth
signals; allauth signs in through them), and the PII scan queued after a Takeout
import (quick, and never failing the sender). Streams are scanned at write time
(apps/lake/pipeline.py, through the PiiGuard installed in apps.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.core.queueing import queue_after_commit
from apps.lake.signals import import_finished
from apps.privacy.audit import audit_record, request_ip


@receiver(user_logged_in, dispatch_uid="privacy-audit-login")
def _logged_in(sender, request, user, **kwargs) -> None:
    audit_record(action="login", user_id=user.pk, actor_id=user.pk, ip=request_ip(request))


@receiver(user_logged_out, dispatch_uid="privacy-audit-logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action="logout", user_id=user.pk, actor_id=user.pk, ip=request_ip(request))


@receiver(user_login_failed, dispatch_uid="privacy-audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django has already masked the password in ``credentials``; keep only the name.
    typed = str(credentials.get("username") or credentials.get("email") or "")[:150]
    user_model = get_user_model()
    # allauth signs in by username or by e-mail address.
    lookup = {"email__iexact": typed} if "@" in typed else {user_model.USERNAME_FIELD: typed}
    account = (
        user_model.objects.filter(**lookup).order_by("pk").values_list("pk", flat=True).first()
        if typed
        else None
    )
    audit_record(
        action="login.failed",
        user_id=account,
        detail={"username": typed},
        ip=request_ip(request),
    )


@receiver(import_finished, dispatch_uid="privacy.pii_scan_after_import")
def pii_scan_after_import(sender: Any, *, user_id: int, import_id: int, **kwargs: Any) -> None:
    from apps.privacy.tasks import pii_scan_user

    queue_after_commit(pii_scan_user, user_id)
