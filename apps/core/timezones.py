"""The time zone of a user's days: one place that says which zone, and turns dates into moments.

A user's "day" (timeline day groups, the dashboard's series, "where was I on",
the ``start``/``end`` date filters of pages and the API) runs from midnight to
midnight in their zone: ``UserSettings.time_zone``, set from the browser at the
first sign-in and editable on /settings/, or ``settings.TIME_ZONE`` until then.
Moments stored and returned by the API stay absolute (ISO 8601 with offset).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from apps.core.models import UserSettings
from apps.core.signals import time_zone_changed

# Old names that browsers still report (Chromium's ICU says "Asia/Calcutta") and that
# the server's time zone database may no longer carry (Debian moved them to tzdata-legacy).
LEGACY_ZONES = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Dacca": "Asia/Dhaka",
    "Asia/Ulan_Bator": "Asia/Ulaanbaatar",
    "Europe/Kiev": "Europe/Kyiv",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Godthab": "America/Nuuk",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
}


class TimeZoneError(ValueError):
    """A zone name that is not an IANA time zone; the message is written for the user."""


def valid_zone(name: str) -> zoneinfo.ZoneInfo:
    name = (name or "").strip()
    name = LEGACY_ZONES.get(name, name)
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        raise TimeZoneError(f"time zone: {name[:40]!r} is not a time zone name (e.g. Europe/Paris)")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(
            f"time zone: {name[:40]!r} is not a time zone name (e.g. Europe/Paris)"
        ) from None


def default_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def zone_of(user_id: int | None) -> zoneinfo.ZoneInfo:
    """The zone of ``user_id``'s days (the default zone for nobody or an unknown name)."""
    if user_id is None:
        return default_zone()
    name = UserSettings.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
    if not name:
        return default_zone()
    try:
        return valid_zone(name)
    except TimeZoneError:
        return default_zone()


def has_zone(user_id: int) -> bool:
    return UserSettings.objects.filter(user_id=user_id).exclude(time_zone="").exists()


def set_zone(*, user_id: int, name: str, chosen: bool) -> bool:
    """Store ``name`` as the user's zone; False (nothing changed) when a zone the user
    chose would be overwritten by a browser report. Refreshes the daily series when the
    zone changes, so their days follow it."""
    zone = valid_zone(name)
    # The daily series cut days in PostgreSQL: it must know the name too.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = %s)", [zone.key]
        )
        if not cursor.fetchone()[0]:
            raise TimeZoneError(f"time zone: {zone.key!r} is not known to the database server")
    current = UserSettings.objects.filter(user_id=user_id).first()
    if current is not None and current.time_zone_chosen and not chosen:
        return False
    changed = current is None or current.time_zone != zone.key
    UserSettings.objects.update_or_create(
        user_id=user_id, defaults={"time_zone": zone.key, "time_zone_chosen": chosen}
    )
    if changed:
        time_zone_changed.send(sender=UserSettings, user_id=user_id)
    return True


def day_start(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The moment ``day`` begins in ``zone`` (an aware datetime)."""
    return dt.datetime.combine(day, dt.time.min).replace(tzinfo=zone)


def day_bounds(
    start: dt.date | None, end: dt.date | None, zone: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start's midnight, the midnight after end) in ``zone``: ``end`` is inclusive."""
    lower = day_start(start, zone) if start else None
    upper = day_start(end + dt.timedelta(days=1), zone) if end else None
    return lower, upper


class UserTimeZoneMiddleware:
    """Activates the signed-in user's zone, so templates show their local times.

    Runs after the row-level security middleware (it reads the user's own row)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request.datapunk_time_zone_known = has_zone(user.pk)  # type: ignore[attr-defined]
            timezone.activate(zone_of(user.pk))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
