"""Which strings of an event are scanned, and how a finding names one (light: no presidio).

A finding's ``field`` is ``title``, ``text``, ``url``, or a path into
``Event.data`` such as ``data/subtitles/0/name`` (keys escaped as in JSON
Pointer: ``~`` as ``~0``, ``/`` as ``~1``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

from django.conf import settings

TEXT_FIELDS = ("title", "text", "url")


def pointer_part(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def data_strings(data: Any, prefix: str = "data") -> Iterator[tuple[str, str]]:
    """(path, string) for every string inside ``data``."""
    if isinstance(data, str):
        yield prefix, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from data_strings(value, f"{prefix}/{pointer_part(key)}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from data_strings(value, f"{prefix}/{index}")


def event_fields(event: dict[str, Any]) -> list[tuple[str, str]]:
    """The (field, text) pairs of one event that are scanned: every string, all of it.

    Each field gets its own findings, so masking touches only the spans found
    in it (a string repeated elsewhere is analysed once: the scanner memoises
    identical texts). Numbers in ``data`` are never text and never listed.
    Nothing is capped: an event whose strings were not all scanned would be
    stored as scanned (the cap of 200 strings this replaced let PII through).
    """
    fields: list[tuple[str, str]] = []
    for name in TEXT_FIELDS:
        value = event.get(name) or ""
        if isinstance(value, str) and value:
            fields.append((name, value))
    for path, value in data_strings(event.get("data") or {}):
        if value:
            fields.append((path, value))
    return fields


def _walk(event: dict[str, Any], field: str) -> tuple[Any, Any] | None:
    """(container, key) holding ``field`` in ``event``, or None if it is not there."""
    if field in TEXT_FIELDS:
        return event, field
    parts = field.split("/")
    if parts[0] != "data" or len(parts) < 2:
        return None
    container: Any = event
    key: Any = "data"
    for raw in parts[1:]:
        node = container.get(key) if isinstance(container, dict) else container[key]
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            container, key = node, part
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            container, key = node, int(part)
        else:
            return None
    return container, key


def field_value(event: dict[str, Any], field: str) -> str | None:
    """The string at ``field`` of an event dict, or None if there is none."""
    place = _walk(event, field)
    if place is None:
        return None
    container, key = place
    value = container.get(key) if isinstance(container, dict) else container[key]
    return value if isinstance(value, str) else None


def field_set(event: dict[str, Any], field: str, value: str) -> None:
    """Replace the string at ``field`` (which must exist, see field_value)."""
    place = _walk(event, field)
    if place is not None:
        container, key = place
        container[key] = value


def value_digest(*, user_id: int, value: str) -> str:
    """A keyed digest of a PII value: stable per user, useless for guessing across users.

    Stored with findings (so redaction can check a span still holds what was
    found, without storing the value) and shown by the "hash" policy.
    """
    key = hashlib.sha256(f"{settings.SECRET_KEY}:pii:{user_id}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]
