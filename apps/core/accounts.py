"""allauth's adapter: sign-up closed unless SIGNUP_OPEN is set; the sign-in
limit is apps/core/signin_limit.py's, shared with the other sign-in pages."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.SIGNUP_OPEN

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # SignInLimitBackend spends the attempt inside authenticate(); allauth's
        # own tally would count every attempt on this page twice.
        return None

    def _rollback_login_failed_rl_usage(self) -> None:
        return None  # refunded on user_logged_in (signin_limit.signin_attempt_refund)
