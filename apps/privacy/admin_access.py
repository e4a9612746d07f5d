"""Staff in the admin read their own rows; someone else's only through an access
they open on purpose, with a reason, that the audit log records.

The admin's "Access a user's data" page (``/admin/access/``) opens an access
to one user's rows, or, for a superuser, to every user's (the system context),
for ``ACCESS_SECONDS``. It lives in the staff user's session. Opening it,
ending it, and every admin request made under it are audit entries:
``admin.access.opened`` (with the reason), ``admin.access.closed`` and
``admin.access.request`` (method and path). The middleware
(apps/privacy/middleware.py) enters the context the open access names.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from django.http import HttpRequest

from apps.core.db.context import system_context, user_context
from apps.privacy.audit import audit_record, request_ip

SESSION_KEY = "datapunk_admin_access"
# Long enough for one support case; a forgotten access ends by itself.
ACCESS_SECONDS = 30 * 60


class AdminAccessRefused(Exception):
    """An access the staff user may not open; the message is for them."""


@dataclass(frozen=True)
class AdminAccess:
    user_id: int | None  # None: every user's rows (a superuser's access)
    label: str  # whose rows, as the admin shows it
    reason: str
    expires_at: float  # epoch seconds

    @property
    def seconds_left(self) -> int:
        return max(int(self.expires_at - time.time()), 0)


def admin_access_current(request: HttpRequest) -> AdminAccess | None:
    """The staff user's open access, or None (also once it has run out)."""
    stored = request.session.get(SESSION_KEY)
    if not stored:
        return None
    access = AdminAccess(**stored)
    if access.expires_at <= time.time():
        admin_access_close(request=request, why="expired")
        return None
    return access


def admin_access_open(
    *, request: HttpRequest, user_id: int | None, label: str, reason: str
) -> AdminAccess:
    """Open an access to ``user_id``'s rows (None: everyone's, superusers only), audited.

    Replaces an access already open (which is closed, audited, first).
    """
    staff = request.user
    if not staff.is_staff:
        raise AdminAccessRefused("only staff users open an access to someone's data")
    if user_id is None and not staff.is_superuser:
        raise AdminAccessRefused("only a superuser may open an access to every user's data")
    reason = reason.strip()
    if not reason:
        raise AdminAccessRefused("say why you need this access; the audit log keeps it")
    if request.session.get(SESSION_KEY):
        admin_access_close(request=request, why="replaced")
    access = AdminAccess(
        user_id=user_id, label=label, reason=reason, expires_at=time.time() + ACCESS_SECONDS
    )
    request.session[SESSION_KEY] = asdict(access)
    audit_record(
        action="admin.access.opened",
        user_id=user_id,
        actor_id=staff.pk,
        target="user:*" if user_id is None else f"user:{user_id}",
        detail={"reason": reason[:500], "seconds": ACCESS_SECONDS, "whose": label},
        ip=request_ip(request),
    )
    return access


def admin_access_close(*, request: HttpRequest, why: str = "ended") -> None:
    """End the open access, if any (audited). Idempotent."""
    stored = request.session.pop(SESSION_KEY, None)
    if not stored:
        return
    access = AdminAccess(**stored)
    audit_record(
        action="admin.access.closed",
        user_id=access.user_id,
        actor_id=request.user.pk,
        target="user:*" if access.user_id is None else f"user:{access.user_id}",
        detail={"why": why, "whose": access.label},
        ip=request_ip(request),
    )


@contextmanager
def admin_request_context(request: HttpRequest) -> Iterator[None]:
    """The rows a staff user's admin request may touch: their own, or those of
    the access they opened (each such request audited)."""
    staff_id = request.user.pk
    assert staff_id is not None  # the middleware calls this for a signed-in staff user
    access = admin_access_current(request)
    if access is None:
        with user_context(staff_id):
            yield
        return
    audit_record(
        action="admin.access.request",
        user_id=access.user_id,
        actor_id=request.user.pk,
        target=request.path[:200],
        detail={"method": request.method, "whose": access.label},
        ip=request_ip(request),
    )
    if access.user_id is None:
        with system_context():
            yield
    else:
        with user_context(access.user_id):
            yield
