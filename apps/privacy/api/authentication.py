"""DRF authentication that also enters the user's row-level security context.

DRF authenticates inside the view, after the middleware ran; a token-only
request reaches the middleware anonymous. Any other authentication class a
view uses (API keys, webhooks signed per user) calls ``enter_request_user``
the same way once it knows the user.
"""

from __future__ import annotations

from rest_framework import authentication

from apps.privacy.middleware import enter_request_user


class _EntersUserContext:
    def authenticate(self, request):
        result = super().authenticate(request)  # type: ignore[misc]
        if result is not None:
            enter_request_user(request._request, result[0].pk)
        return result


class SessionAuthentication(_EntersUserContext, authentication.SessionAuthentication):
    pass


class TokenAuthentication(_EntersUserContext, authentication.TokenAuthentication):
    pass
