"""The one brute-force limit on signing in, whichever door is used.

allauth's pages (/accounts/login/), DRF's browsable-API login (/api/auth/login/,
Django's LoginView) and the admin's (/admin/login/) all end in Django's
``authenticate()``; ``SignInLimitBackend`` stands first in
AUTHENTICATION_BACKENDS, so every attempt passes through it. It spends one
attempt of allauth's ``login_failed`` rate (ACCOUNT_RATE_LIMITS: per client
address and per account) and refuses with a form error once either is spent; a
successful sign-in gives its attempt back (``signin_attempt_refund``, on
Django's user_logged_in signal), so only failures count and a correct password
cannot reset an attacker's tally.

The account key is the account the typed name resolves to (username or e-mail
address, any case), so "alice" and "ALICE@example.org" share one tally.
"""

from __future__ import annotations

from typing import Any

from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest

_USAGE_ATTRIBUTE = "_datapunk_signin_usage"
TOO_MANY_ATTEMPTS = "Too many failed sign-in attempts for this account or from this address; wait a few minutes and try again."


TOO_MANY_PASSWORD_CHECKS = "Too many wrong passwords; wait 15 minutes and try again."


class SignInLimited(ValidationError):
    """Raised inside the sign-in forms' clean(): shown as the form's error."""


class PasswordCheckLimited(Exception):
    """A signed-in user's password was asked again (delete my data) too often."""

    message = TOO_MANY_PASSWORD_CHECKS


def signin_account_key(login: str) -> str:
    """The tally's key: the account's id when ``login`` names one, else the typed text."""
    typed = login.strip().lower()[:254]
    user_model = get_user_model()
    account = (
        user_model.objects.filter(
            Q(**{f"{user_model.USERNAME_FIELD}__iexact": typed}) | Q(email__iexact=typed)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
        if typed
        else None
    )
    return f"account:{account}" if account is not None else f"name:{typed}"


def signin_attempt_spend(request: HttpRequest, login: str) -> None:
    """Spend one attempt for ``login`` from this request's address; SignInLimited
    when the account's or the address's attempts are used up."""
    usage = ratelimit.consume(
        request, app="allauth.account", action="login_failed", key=signin_account_key(login)
    )
    if not usage:
        raise SignInLimited(TOO_MANY_ATTEMPTS, code="too_many_login_attempts")
    setattr(request, _USAGE_ATTRIBUTE, usage)


def signin_attempt_refund(request: HttpRequest | None) -> None:
    """Give back the attempt of a sign-in that succeeded."""
    usage = getattr(request, _USAGE_ATTRIBUTE, None)
    if usage is not None and hasattr(usage, "rollback"):
        usage.rollback()
        delattr(request, _USAGE_ATTRIBUTE)


def password_check(request: HttpRequest, user: AbstractBaseUser, password: str) -> bool:
    """Whether ``password`` is ``user``'s, asked again by a signed-in page (delete
    my data): DATAPUNK_PASSWORD_CHECK_RATE_LIMIT wrong ones per user, then
    PasswordCheckLimited; a right one gives its attempt back. A stolen session
    cannot guess the password behind it this way."""
    usage = ratelimit.consume(
        request,
        app="allauth.account",
        action="password_check",
        config={"password_check": settings.DATAPUNK_PASSWORD_CHECK_RATE_LIMIT},
        user=user,
    )
    if not usage:
        raise PasswordCheckLimited(TOO_MANY_PASSWORD_CHECKS)
    if user.check_password(password):
        usage.rollback()
        return True
    return False


class SignInLimitBackend:
    """First of AUTHENTICATION_BACKENDS: never signs anyone in, only spends an
    attempt (or refuses) before the real backends check the password."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        login = credentials.get("username") or credentials.get("email")
        if request is None or not isinstance(login, str):
            return None  # not a client's sign-in (a command, a test helper)
        signin_attempt_spend(request, login)
        return None

    def get_user(self, user_id: int) -> AbstractBaseUser | None:
        # Sessions made by code that takes the first backend (Django's test
        # client's force_login) name this one: read them as ModelBackend does.
        return ModelBackend().get_user(user_id)
