"""allauth raises SocialApp.DoesNotExist (a 500) when a provider's login URL is
used with no OAuth app set up; answer 404 with what to do instead."""

from __future__ import annotations

from collections.abc import Callable

from allauth.socialaccount.models import SocialApp
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound


class ProviderNotConfiguredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SocialApp.DoesNotExist):
            return HttpResponseNotFound(
                "This provider is not set up on this server: see /connections/ for how to set it up.",
                content_type="text/plain",
            )
        return None
