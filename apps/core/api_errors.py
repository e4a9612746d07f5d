"""The one shape of an error answer, and the one way a user's error becomes a 400.

Every error our API and JSON endpoints answer is ``{"detail": message}``, the
message written for the user (DRF's own errors have that shape too; a
serializer's field errors keep DRF's ``{field: [messages]}``). Services raise
exception types carrying such a message (STYLE.md); views turn them into an
answer here rather than each building its own body.
"""

from __future__ import annotations

from django.http import JsonResponse
from rest_framework import status as http
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response


def error_body(message: str) -> dict[str, str]:
    return {"detail": message}


def api_error(message: str, *, status: int = http.HTTP_400_BAD_REQUEST) -> Response:
    """A DRF answer with ``message`` for the user (400 unless ``status`` says otherwise)."""
    return Response(error_body(message), status=status)


def queue_unavailable(message: str, **stored: object) -> Response:
    """503 for a request whose row is stored but whose task the broker refused
    (apps/core/queueing.py): the message says what to do, ``stored`` shows what was kept."""
    return Response(
        {**error_body(message), **stored},
        status=http.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "60"},
    )


def json_error(message: str, *, status: int = http.HTTP_400_BAD_REQUEST) -> JsonResponse:
    """The same for plain Django views (webhooks, forms posted by the pages' scripts)."""
    return JsonResponse(error_body(message), status=status)


def bad_request(message: object) -> ValidationError:
    """For a DRF view to raise (``raise bad_request(exc) from None``): DRF's
    exception handler answers 400 ``{"detail": str(message)}``."""
    return ValidationError(error_body(str(message)))
