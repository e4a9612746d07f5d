"""Small template filters for event payloads (dicts with ISO times)."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def kind_family(kind: str) -> str:
    """'youtube.watch' -> 'youtube': the badge colour of a kind."""
    return str(kind).split(".", 1)[0]


@register.filter
def iso_datetime(value: str | None) -> dt.datetime | None:
    """An ISO 8601 string (as payloads carry times) as a datetime for |date."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None
