"""Small template filters for event payloads (dicts with ISO times)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from apps.core.templatetags.moments import iso_datetime
from apps.lake.normalize import LOCAL_TIME_KEY

register = template.Library()


@register.filter
def kind_family(kind: str) -> str:
    """'youtube.watch' -> 'youtube': the badge colour of a kind."""
    return str(kind).split(".", 1)[0]


# One definition, shared with pages below analytics (the live feed).
register.filter("iso_datetime", iso_datetime)


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


def _offset(text: str) -> dt.timezone | None:
    """'+05:30' as a fixed zone (None for anything else)."""
    try:
        sign = -1 if text[0] == "-" else 1
        hours, minutes = int(text[1:3]), int(text[4:6])
    except (IndexError, ValueError, TypeError):
        return None
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


@register.filter
def local_time_there(event: dict[str, Any]) -> str:
    """'20:00 (+05:30)' — the event's time on the clock of the place where it happened,
    as its source gave it (apps/lake/normalize.py, LOCAL_TIME_KEY) — or '' when that
    clock showed what the user's own zone shows (or the source gave none). With the
    date when the place's day is another one."""
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict):
        return ""
    local = data.get(LOCAL_TIME_KEY)
    moment = iso_datetime(event.get("occurred_at")) if local else None
    if not isinstance(local, dict) or moment is None or moment.tzinfo is None:
        return ""
    if data.get("all_day"):  # a calendar's all-day event has no clock time
        return ""
    there_zone = _offset(str(local.get("offset", "")))
    if there_zone is None:
        return ""
    there = moment.astimezone(there_zone)
    here = timezone.localtime(moment)
    if there.utcoffset() == here.utcoffset():
        return ""
    shown = (
        there.strftime("%H:%M")
        if there.date() == here.date()
        else there.strftime("%a %-d %b %H:%M")
    )
    return f"{shown} ({local['offset']})"
