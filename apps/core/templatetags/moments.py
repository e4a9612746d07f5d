"""Times as pages show them: in the signed-in user's zone (apps/core/timezones.py).

Payloads carry ISO 8601 text (UTC); ``{{ value|iso_datetime|date:"Y-m-d H:i" }}``
turns it into a datetime that ``|date`` shows in the zone activated for the page.
"""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def iso_datetime(value: str | dt.datetime | None) -> dt.datetime | None:
    """An ISO 8601 string (as payloads carry times) as a datetime for |date."""
    if isinstance(value, dt.datetime):
        return value
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None
