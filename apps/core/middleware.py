"""Request guards that every route gets, whichever app serves it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from apps.core.api_errors import json_error

logger = logging.getLogger(__name__)

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(rb"[^\[\]{}]")


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when the JSON text nests arrays/objects deeper than ``limit``.

    Linear and recursion-free: strings are cut out first (brackets inside them
    do not count), then only the brackets are walked.
    """
    brackets = _NOT_A_BRACKET.sub(b"", _JSON_STRING.sub(b'""', body))
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


# Bodies no view reads as JSON, and the upload chunks the chunk view streams to
# disk unread: the guard leaves them alone. Any other type may be JSON to the
# view that reads it (ingest and webhooks read the raw body, whatever it says).
_NOT_JSON_BODIES = ("multipart/", "application/x-www-form-urlencoded", "application/octet-stream")


class JsonGuardMiddleware:
    """JSON bodies: refuse deep nesting with 400 before a parser recurses into it
    (Python's json module raises RecursionError, a 500, at ~1,000 levels), and
    an oversized body with 413 rather than Django's bare 400."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not (
            request.content_type or ""
        ).startswith(_NOT_JSON_BODIES):
            try:
                body = request.body
            except RequestDataTooBig:
                return json_error(
                    "request body too large: JSON requests take at most "
                    f"{settings.DATAPUNK_MAX_REQUEST_BYTES} bytes",
                    status=413,
                )
            if json_depth_exceeds(body, settings.DATAPUNK_MAX_JSON_DEPTH):
                return json_error(
                    "JSON nested too deeply: at most "
                    f"{settings.DATAPUNK_MAX_JSON_DEPTH} levels of arrays and objects"
                )
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # A safety net for input parsed by other means (forms, XML, query strings).
        if isinstance(exception, RecursionError):
            logger.warning("input nested too deeply on %s", request.path)
            return json_error("input nested too deeply")
        return None


class ContentSecurityPolicyMiddleware:
    """Content-Security-Policy on every answer (settings.DATAPUNK_CSP): scripts
    only from our own static files, so an injected <script> or javascript: link
    does not run. The API's Swagger page (drf-spectacular's template starts
    Swagger UI with an inline script) also allows inline script."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            tiles = urlsplit(settings.DATAPUNK_MAP_TILE_URL or "")
            policy = settings.DATAPUNK_CSP.replace("{tiles}", f"{tiles.scheme}://{tiles.netloc}")
            if request.path.startswith("/api/docs/"):
                policy = policy.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
            response["Content-Security-Policy"] = policy
        return response
