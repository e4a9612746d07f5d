"""Reading inbound request bodies with a cap, before anything parses them."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than {limit} bytes.")
        self.message = str(self)


def read_capped_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, or BodyTooLarge when it (or its Content-Length) passes ``limit``."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge(limit)
    try:
        body = request.body
    except RequestDataTooBig:  # above Django's own cap, whatever the header said
        raise BodyTooLarge(limit) from None
    if len(body) > limit:
        raise BodyTooLarge(limit)
    return body
