"""The one way to read event filters from a request, shared by the timeline and search.

``event_filters_from_params(params, user=...)`` turns query parameters into an
``EventFilters`` (or raises ``FilterError`` with a message for the user, which
the API answers with 400); ``apply_event_filters(queryset, filters)`` narrows an
``Event`` queryset by them. The caller has already filtered the queryset by its
user: a place or geofence named in the parameters must belong to ``user`` too.

Parameters (all optional, combined with AND):

- ``source``: one or more sources, comma-separated or repeated (``takeout,spotify``).
- ``kind``: one or more kinds; ``youtube.*`` means every kind starting ``youtube.``.
- ``start`` / ``end``: ISO dates or date-times; a date is a day of the user's
  time zone (apps/core/timezones.py), a date-time without an offset is read in
  that zone too; a date-only ``end`` includes that whole day.
- ``near=LAT,LON`` with ``radius`` in metres (default 1,000, at most 100 km).
- ``place=ID``: within ``radius`` (default 250 m) of one of the user's places.
- ``geofence=ID``: inside one of the user's geofences.
- ``q``: full-text search over title and text (PostgreSQL websearch syntax:
  words, "quoted phrases", ``-excluded``; English stemming, and every word as
  written for other languages), through the GIN index (apps/analytics/search/).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, Point
from django.contrib.gis.measure import D
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_date, parse_datetime

from apps.analytics.search.fulltext_sql import tsquery_sql
from apps.core.timezones import day_bounds, zone_of
from apps.lake.models import Event

DEFAULT_NEAR_RADIUS_M = 1_000.0
DEFAULT_PLACE_RADIUS_M = 250.0
MAX_RADIUS_M = 100_000.0
MAX_LIST_ITEMS = 50
MAX_QUERY_CHARS = 500


class FilterError(ValueError):
    """A filter parameter that cannot be used; the message is written for the user."""


@dataclass(frozen=True)
class EventFilters:
    sources: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None  # exclusive
    # An area: a point with a radius (near, place) or a polygon (geofence).
    center: Point | None = None
    radius_m: float | None = None
    area: GEOSGeometry | None = None
    query: str = ""
    # What the caller asked for, normalised, to echo back (and to build next links).
    echo: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (
            self.sources
            or self.kinds
            or self.start
            or self.end
            or self.center
            or self.area
            or self.query
        )


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    """All values of a parameter, repeated or comma-separated, stripped, non-empty."""
    raw: list[Any]
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        raw = list(getlist(name))
    else:
        value = params.get(name)
        raw = list(value) if isinstance(value, list | tuple) else ([] if value is None else [value])
    items = [item.strip() for value in raw for item in str(value).split(",") if item.strip()]
    if len(items) > MAX_LIST_ITEMS:
        raise FilterError(f"{name}: at most {MAX_LIST_ITEMS} values")
    for item in items:
        if len(item) > 64 or "\x00" in item:
            raise FilterError(f"{name}: {item[:40]!r} is not a valid value")
    return items


def one_value(params: Mapping[str, Any], name: str) -> str:
    values = _values(params, name)
    if len(values) > 1:
        raise FilterError(f"{name}: give one value, not {len(values)}")
    return values[0] if values else ""


# Days a filter may name: a day's end (the next midnight) and any offset must
# still be a datetime, so the calendar's first and last days are left out.
EARLIEST_DAY = dt.date(1, 1, 2)
LATEST_DAY = dt.date(9999, 12, 30)


def day_in_range(day: dt.date, value: str, name: str) -> dt.date:
    """``day`` if a filter can use it; FilterError for the calendar's edges."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise FilterError(
            f"{name}: {value[:40]!r} is out of range ({EARLIEST_DAY} to {LATEST_DAY})"
        )
    return day


def _moment(value: str, name: str, *, end: bool, zone: dt.tzinfo = dt.UTC) -> dt.datetime:
    """A date or date-time (in ``zone`` unless it has an offset); an end date means
    the start of the following day."""
    moment: dt.datetime | None = None
    day: dt.date | None = None
    try:
        # A bare date first: parse_datetime would read it as that day's midnight.
        day = parse_date(value)
        if day is None:
            moment = parse_datetime(value)
    except ValueError:
        moment, day = None, None
    if moment is not None:
        day_in_range(moment.date(), value, name)
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    if day is not None:
        day_in_range(day, value, name)
        lower, upper = day_bounds(day, day, zone)
        assert lower is not None and upper is not None
        return upper if end else lower
    raise FilterError(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD) or date-time (ISO 8601)")


def finite_number(value: str | int | float) -> float | None:
    """``value`` as a finite float; None when it is not a number, or NaN or infinite."""
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int past float's range
        return None
    return number if math.isfinite(number) else None


def _number(value: str, name: str) -> float:
    number = finite_number(value)
    if number is None:
        raise FilterError(f"{name}: {value[:40]!r} is not a number")
    return number


def _radius(params: Mapping[str, Any], default: float) -> float:
    raw = one_value(params, "radius")
    if not raw:
        return default
    radius = _number(raw, "radius")
    if not 0 < radius <= MAX_RADIUS_M:
        raise FilterError(f"radius: give metres between 1 and {MAX_RADIUS_M:,.0f}")
    return radius


def _owned_id(params: Mapping[str, Any], name: str) -> int | None:
    raw = one_value(params, name)
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise FilterError(f"{name}: {raw[:40]!r} is not an id")
    return int(raw)


def event_filters_from_params(params: Mapping[str, Any], *, user: Any) -> EventFilters:
    """Parse query parameters (a QueryDict or a plain dict) into filters for ``user``.

    Raises FilterError (message for the user) on a malformed value, or on a
    place or geofence that is not ``user``'s: another user's id reads exactly
    like an id that does not exist.
    """
    from apps.analytics.models import Geofence
    from apps.lake.models import Place

    echo: dict[str, str] = {}
    sources = tuple(_values(params, "source"))
    kinds = tuple(_values(params, "kind"))
    start_raw, end_raw = one_value(params, "start"), one_value(params, "end")
    zone = zone_of(getattr(user, "pk", None))
    start = _moment(start_raw, "start", end=False, zone=zone) if start_raw else None
    end = _moment(end_raw, "end", end=True, zone=zone) if end_raw else None
    if start and end and end <= start:
        raise FilterError("end must be after start")

    query_values = params.getlist("q") if hasattr(params, "getlist") else [params.get("q") or ""]
    query = " ".join(str(value) for value in query_values).strip()
    if len(query) > MAX_QUERY_CHARS:
        raise FilterError(f"q: at most {MAX_QUERY_CHARS} characters")
    if "\x00" in query:
        raise FilterError("q: contains a NUL character")

    center: Point | None = None
    radius: float | None = None
    area: GEOSGeometry | None = None
    near = _values(params, "near")
    place_id = _owned_id(params, "place")
    geofence_id = _owned_id(params, "geofence")
    if sum(bool(x) for x in (near, place_id, geofence_id)) > 1:
        raise FilterError("give only one of near, place and geofence")
    if near:
        if len(near) != 2:
            raise FilterError("near: give LAT,LON")
        lat, lon = _number(near[0], "near latitude"), _number(near[1], "near longitude")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise FilterError("near: latitude must be within ±90 and longitude within ±180")
        center, radius = Point(lon, lat, srid=4326), _radius(params, DEFAULT_NEAR_RADIUS_M)
        echo.update(near=f"{lat},{lon}", radius=f"{radius:g}")
    elif place_id is not None:
        place = Place.objects.filter(user=user, pk=place_id).first()
        if place is None:
            raise FilterError(f"place: you have no place {place_id}")
        if place.location is None:
            raise FilterError(f"place: {place} has no coordinates to search around")
        center, radius = place.location, _radius(params, DEFAULT_PLACE_RADIUS_M)
        echo.update(place=str(place_id), radius=f"{radius:g}")
    elif geofence_id is not None:
        geofence = Geofence.objects.filter(user=user, pk=geofence_id).first()
        if geofence is None:
            raise FilterError(f"geofence: you have no geofence {geofence_id}")
        if geofence.area is not None:
            area = geofence.area
        else:
            center, radius = geofence.center, geofence.radius_m
        echo["geofence"] = str(geofence_id)

    if sources:
        echo["source"] = ",".join(sources)
    if kinds:
        echo["kind"] = ",".join(kinds)
    if start_raw:
        echo["start"] = start_raw
    if end_raw:
        echo["end"] = end_raw
    if query:
        echo["q"] = query
    return EventFilters(
        sources=sources,
        kinds=kinds,
        start=start,
        end=end,
        center=center,
        radius_m=radius,
        area=area,
        query=query,
        echo=echo,
    )


def fts_match_sql(query: str) -> RawSQL:
    """The event is one of the user's full-text matches of ``query`` (websearch syntax).

    The matches come from ``datapunk_search.newest_matches`` (the GIN index on the
    stored ``search_vector``, usable under row-level security only through that
    function: apps/analytics/search/fulltext_sql.py); the rows themselves are still
    read under the policy.
    """
    return RawSQL(
        # ARRAY(...) runs the function once, before the scan (an InitPlan).
        '"lake_event"."id" = ANY(ARRAY(SELECT event_id FROM'
        f" datapunk_search.newest_matches({tsquery_sql()}, NULL)))",
        [query, query],
        output_field=BooleanField(),
    )


def apply_event_filters(queryset: QuerySet[Event], filters: EventFilters) -> QuerySet[Event]:
    """Narrow an Event queryset (already filtered by its owner) by ``filters``."""
    if filters.sources:
        queryset = queryset.filter(source__in=filters.sources)
    if filters.kinds:
        exact = [kind for kind in filters.kinds if not kind.endswith(".*")]
        prefixes = [kind[:-1] for kind in filters.kinds if kind.endswith(".*")]
        condition = Q(kind__in=exact) if exact else Q()
        for prefix in prefixes:
            condition |= Q(kind__startswith=prefix)
        queryset = queryset.filter(condition)
    if filters.start:
        queryset = queryset.filter(occurred_at__gte=filters.start)
    if filters.end:
        queryset = queryset.filter(occurred_at__lt=filters.end)
    if filters.center is not None and filters.radius_m is not None:
        queryset = queryset.filter(location__dwithin=(filters.center, D(m=filters.radius_m)))
    if filters.area is not None:
        queryset = queryset.filter(location__intersects=filters.area)
    if filters.query:
        queryset = queryset.filter(fts_match_sql(filters.query))
    return queryset
