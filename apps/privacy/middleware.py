"""Every authenticated request runs in its user's row-level security context."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from apps.core.db.context import user_context
from apps.privacy.admin_access import admin_request_context

_SCOPE = "_datapunk_rls_scope"


class RowLevelSecurityMiddleware:
    """After AuthenticationMiddleware: a signed-in user's request sees their rows only.
    Staff in the admin too, unless they opened an audited access to someone's
    rows (apps/privacy/admin_access.py; what they change there is audited by
    apps/privacy/admin_site.py). Requests authenticated later by DRF (token)
    enter their user through ``enter_request_user``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self._admin_prefix: str | None = None

    def _is_admin(self, request: HttpRequest) -> bool:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        return request.path.startswith(self._admin_prefix)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with ExitStack() as scope:
            setattr(request, _SCOPE, scope)
            user = request.user
            if not user.is_authenticated:
                return self.get_response(request)
            if user.is_staff and self._is_admin(request):
                scope.enter_context(admin_request_context(request))
            else:
                scope.enter_context(user_context(user.pk))
            return self.get_response(request)


def enter_request_user(request: HttpRequest, user_id: int) -> None:
    """Make the rest of ``request`` run as ``user_id`` (an authentication that
    happens inside the view, e.g. a DRF token). Without the middleware around
    the request nothing is entered, and the request sees no user's rows."""
    scope: ExitStack | None = getattr(request, _SCOPE, None)
    if scope is not None:
        scope.enter_context(user_context(user_id))
