"""Small template filters for event payloads (dicts with ISO times)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

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


@register.filter
def local_day(value: str | None) -> str:
    """An ISO time's date (YYYY-MM-DD) in the current time zone (the user's, activated
    by apps/core/timezones.py): the day an event belongs to for its owner."""
    moment = iso_datetime(value)
    if moment is None:
        return ""
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return timezone.localtime(moment).date().isoformat()
