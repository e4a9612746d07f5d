"""Where a user has been: stays, a day's whereabouts, geofence crossings (PostGIS).

Stays are found in the raw fixes with a distance + dwell rule (a run of fixes
within ``radius_m`` of their running centre for at least ``min_dwell``) and
merged with the visits Google's Semantic Location History already names: a
visit that overlaps a detected stay in time lends it its place; a visit with no
detected stay (no raw fixes then) is kept as a stay of its own.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from apps.lake.models import LocationPoint, Visit

EARTH_RADIUS_M = 6_371_008.8
STAY_RADIUS_M = 150.0
STAY_MIN_DWELL = dt.timedelta(minutes=15)
# A visit and a detected stay are the same stay when they overlap in time and
# their centres are this close.
MERGE_DISTANCE_M = 500.0
# A day's or a range's fixes are read whole; past this the range is too long to
# cluster in a request (the API says so instead of timing out).
MAX_FIXES_PER_REQUEST = 200_000


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class Stay:
    started_at: dt.datetime
    ended_at: dt.datetime
    lat: float
    lon: float
    fixes: int = 0
    origin: list[str] = field(default_factory=list)  # "points" and/or "visit"
    name: str = ""
    address: str = ""
    place_id: str = ""

    @property
    def minutes(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() / 60

    def payload(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "minutes": round(self.minutes, 1),
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "fixes": self.fixes,
            "origin": self.origin,
            "name": self.name,
            "address": self.address,
            "place_id": self.place_id,
        }


Fix = tuple[dt.datetime, float, float]  # (time, lat, lon), in time order


def detect_stays(
    fixes: Iterable[Fix],
    *,
    radius_m: float = STAY_RADIUS_M,
    min_dwell: dt.timedelta = STAY_MIN_DWELL,
) -> list[Stay]:
    """Stays in time-ordered fixes: maximal runs within ``radius_m`` of the run's
    centre lasting at least ``min_dwell``. One pass; each fix joins at most one run."""
    stays: list[Stay] = []
    run: list[Fix] = []
    lat_sum = lon_sum = 0.0

    def close_run() -> None:
        if run and run[-1][0] - run[0][0] >= min_dwell:
            stays.append(
                Stay(
                    started_at=run[0][0],
                    ended_at=run[-1][0],
                    lat=lat_sum / len(run),
                    lon=lon_sum / len(run),
                    fixes=len(run),
                    origin=["points"],
                )
            )

    for fix in fixes:
        if run and haversine_m(lat_sum / len(run), lon_sum / len(run), fix[1], fix[2]) > radius_m:
            close_run()
            run, lat_sum, lon_sum = [], 0.0, 0.0
        run.append(fix)
        lat_sum += fix[1]
        lon_sum += fix[2]
    close_run()
    return stays


class RangeTooLarge(ValueError):
    """More fixes than one request may cluster; the message says what to do."""


def fixes_of(*, user_id: int, start: dt.datetime, end: dt.datetime) -> Iterator[Fix]:
    queryset = (
        LocationPoint.objects.filter(user_id=user_id, recorded_at__gte=start, recorded_at__lt=end)
        .order_by("recorded_at")
        .values_list("recorded_at", "point")
    )
    count = 0
    for recorded_at, point in queryset.iterator(chunk_size=5000):
        count += 1
        if count > MAX_FIXES_PER_REQUEST:
            raise RangeTooLarge(
                f"more than {MAX_FIXES_PER_REQUEST:,} location fixes in this range: "
                "ask for a shorter one"
            )
        yield recorded_at, point.y, point.x


def merge_visits(stays: list[Stay], visits: Iterable[Visit]) -> list[Stay]:
    """Name detected stays after the visits they overlap; keep unmatched visits too."""
    merged = list(stays)
    for visit in visits:
        ended = visit.ended_at or visit.started_at
        match = None
        for stay in merged:
            overlaps = stay.started_at <= ended and visit.started_at <= stay.ended_at
            near = visit.location is None or (
                haversine_m(stay.lat, stay.lon, visit.location.y, visit.location.x)
                <= MERGE_DISTANCE_M
            )
            if overlaps and near and "visit" not in stay.origin:
                match = stay
                break
        place = visit.place
        if match is None:
            location = visit.location or (place.location if place is not None else None)
            if location is None:
                continue  # nowhere to put it on a map
            match = Stay(
                started_at=visit.started_at,
                ended_at=ended,
                lat=location.y,
                lon=location.x,
                origin=[],
            )
            merged.append(match)
        match.origin.append("visit")
        if place is not None:
            match.name, match.address, match.place_id = place.name, place.address, place.place_id
    return sorted(merged, key=lambda stay: stay.started_at)


def stays_of(*, user_id: int, start: dt.datetime, end: dt.datetime) -> list[Stay]:
    """The user's stays in [start, end): detected from fixes, merged with visits."""
    stays = detect_stays(fixes_of(user_id=user_id, start=start, end=end))
    visits = (
        Visit.objects.filter(user_id=user_id, started_at__lt=end)
        .exclude(ended_at__lt=start)
        .select_related("place")
        .order_by("started_at")
    )
    return merge_visits(stays, visits)


def _path_km(fixes: list[Fix]) -> float:
    return (
        sum(haversine_m(a[1], a[2], b[1], b[2]) for a, b in zip(fixes, fixes[1:], strict=False))
        / 1000
    )


def day_bounds(day: dt.date, zone: dt.tzinfo = dt.UTC) -> tuple[dt.datetime, dt.datetime]:
    """Midnight to midnight of ``day`` in ``zone`` (a day of 23 or 25 hours at a DST change)."""
    from apps.core.timezones import day_bounds as zone_day_bounds

    start, end = zone_day_bounds(day, day, zone)
    assert start is not None and end is not None
    return start, end


def whereabouts_on(*, user_id: int, day: dt.date, path_limit: int = 2000) -> dict[str, Any]:
    """ "Where was I on ``day``" (a day of the user's time zone): stays, the path walked,
    distance, located events."""
    from apps.analytics.selectors import marker_payloads
    from apps.core.timezones import zone_of
    from apps.lake.models import Event

    start, end = day_bounds(day, zone_of(user_id))
    fixes = list(fixes_of(user_id=user_id, start=start, end=end))
    stride = max(1, math.ceil(len(fixes) / path_limit))
    stays = merge_visits(
        detect_stays(fixes),
        Visit.objects.filter(user_id=user_id, started_at__lt=end)
        .exclude(ended_at__lt=start)
        .select_related("place"),
    )
    located = (
        Event.objects.filter(
            user_id=user_id, occurred_at__gte=start, occurred_at__lt=end, location__isnull=False
        )
        .order_by("occurred_at")
        .only("id", "kind", "title", "occurred_at", "location")[:200]
    )
    return {
        "date": day.isoformat(),
        "fixes": len(fixes),
        "distance_km": round(_path_km(fixes), 2),
        "first_fix": fixes[0][0].isoformat() if fixes else None,
        "last_fix": fixes[-1][0].isoformat() if fixes else None,
        "path": [[round(f[1], 6), round(f[2], 6)] for f in fixes[::stride]],
        "stays": [stay.payload() for stay in stays],
        "events": marker_payloads(user_id=user_id, events=located),
    }


def position_at(*, user_id: int, moment: dt.datetime) -> dict[str, Any] | None:
    """The fix nearest in time to ``moment`` (two index probes, not a scan)."""
    base = LocationPoint.objects.filter(user_id=user_id)
    before = base.filter(recorded_at__lte=moment).order_by("-recorded_at").first()
    after = base.filter(recorded_at__gt=moment).order_by("recorded_at").first()
    candidates = [fix for fix in (before, after) if fix is not None]
    if not candidates:
        return None
    nearest = min(candidates, key=lambda fix: abs(fix.recorded_at - moment))
    return {
        "recorded_at": nearest.recorded_at.isoformat(),
        "lat": nearest.point.y,
        "lon": nearest.point.x,
        "accuracy_m": nearest.accuracy_m,
        "seconds_away": round(abs((nearest.recorded_at - moment).total_seconds())),
    }


def map_points(
    *, user_id: int, start: dt.datetime | None, end: dt.datetime | None, limit: int
) -> tuple[list[list[float]], int]:
    """Up to ``limit`` of the user's fixes in range, evenly thinned, and how many there are.

    Thinned in SQL (every n-th row by row number) so a million-fix history sends
    ``limit`` rows to the browser, not a million.
    """
    conditions: list[str] = ["user_id = %s"]
    params: list[Any] = [user_id]
    if start:
        conditions.append("recorded_at >= %s")
        params.append(start)
    if end:
        conditions.append("recorded_at < %s")
        params.append(end)
    where = " AND ".join(conditions)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM lake_locationpoint WHERE {where}", params)
        total = cursor.fetchone()[0]
        stride = max(1, math.ceil(total / limit)) if total else 1
        cursor.execute(
            "SELECT lat, lon FROM ("
            "SELECT ST_Y(point::geometry) AS lat, ST_X(point::geometry) AS lon, "
            "row_number() OVER (ORDER BY recorded_at) AS n "
            f"FROM lake_locationpoint WHERE {where}) fixes WHERE n %% %s = 0",
            [*params, stride],
        )
        return [[round(lat, 6), round(lon, 6)] for lat, lon in cursor.fetchall()], total
