"""Geofences: areas a user defines, and the enter/exit events their fixes make.

A crossing is a change between two consecutive fixes (in time) from outside
to inside (``geofence.enter``) or back (``geofence.exit``), judged in SQL over
the user's location points with a window function. The crossings are stored
as events through the lake's pipeline (``records_store``), so the database's
dedupe key makes recomputing them idempotent. A history that starts inside the
area has no enter: no fix shows the crossing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point, Polygon
from django.db import IntegrityError, connection, transaction

from apps.analytics.models import Geofence, GeofenceState
from apps.lake.models import Event
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord

SOURCE = "analytics"
MAX_RADIUS_M = 100_000.0
MAX_POLYGON_VERTICES = 1_000
# A state never advanced (its geofence has judged no fix yet).
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class GeofenceError(ValueError):
    """A geofence that cannot be made; the message is written for the user."""


@dataclass(frozen=True)
class Crossing:
    at: dt.datetime
    direction: str  # "enter" or "exit"
    lat: float
    lon: float


def _polygon_from(geojson: Any) -> Polygon:
    if not isinstance(geojson, dict) or geojson.get("type") != "Polygon":
        raise GeofenceError('area: give a GeoJSON Polygon ({"type": "Polygon", "coordinates": …})')
    rings = geojson.get("coordinates")
    if (
        not isinstance(rings, list)
        or not rings
        or sum(len(ring) for ring in rings if isinstance(ring, list)) > MAX_POLYGON_VERTICES
    ):
        raise GeofenceError(f"area: a polygon of 4 to {MAX_POLYGON_VERTICES} positions")
    try:
        polygon = GEOSGeometry(json.dumps({"type": "Polygon", "coordinates": rings}), srid=4326)
    except (GEOSException, ValueError, TypeError):
        raise GeofenceError("area: not a readable GeoJSON polygon") from None
    if not isinstance(polygon, Polygon) or not polygon.valid:
        raise GeofenceError("area: the polygon is not valid (closed ring, no self-crossing)")
    minx, miny, maxx, maxy = polygon.extent
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeofenceError("area: coordinates are [longitude, latitude] within ±180, ±90")
    return polygon


def geofence_create(
    *,
    user: Any,
    name: str,
    area: Any = None,
    center_lat: float | None = None,
    center_lon: float | None = None,
    radius_m: float | None = None,
) -> Geofence:
    """Create a polygon (``area``, GeoJSON) or circle geofence for ``user``.

    Raises GeofenceError with a message for the user on bad input or a name in use.
    """
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise GeofenceError("name: 1 to 120 characters")
    polygon = center = None
    if area is not None:
        if center_lat is not None or center_lon is not None or radius_m is not None:
            raise GeofenceError("give either area or center and radius, not both")
        polygon = _polygon_from(area)
    else:
        if center_lat is None or center_lon is None or radius_m is None:
            raise GeofenceError("give area (a GeoJSON Polygon) or lat, lon and radius_m")
        if not (-90 <= center_lat <= 90 and -180 <= center_lon <= 180):
            raise GeofenceError("lat within ±90 and lon within ±180")
        if not 0 < radius_m <= MAX_RADIUS_M:
            raise GeofenceError(f"radius_m: metres between 1 and {MAX_RADIUS_M:,.0f}")
        center = Point(center_lon, center_lat, srid=4326)
    try:
        with transaction.atomic():
            return Geofence.objects.create(
                user=user, name=name, area=polygon, center=center, radius_m=radius_m
            )
    except IntegrityError:
        raise GeofenceError(f"you already have a geofence named {name!r}") from None


def _inside_sql(geofence: Geofence) -> tuple[str, list[Any]]:
    if geofence.area is not None:
        return "ST_Covers(%s::geography, point)", [geofence.area.ewkt]
    assert geofence.center is not None  # the check constraint: a polygon or a circle
    return "ST_DWithin(point, %s::geography, %s)", [geofence.center.ewkt, geofence.radius_m]


def geofence_crossings(*, geofence: Geofence, since: dt.datetime | None = None) -> list[Crossing]:
    """The enters and exits over the owner's fixes, oldest first.

    ``since``: only crossings after that fix, judged from it on (it is the
    baseline: whether the owner was inside then); None: the whole history.
    """
    inside_sql, inside_params = _inside_sql(geofence)
    window = "" if since is None else "AND recorded_at >= %s"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recorded_at, inside, ST_Y(point::geometry), ST_X(point::geometry) FROM ("
            f"  SELECT recorded_at, point, {inside_sql} AS inside,"
            f"    lag({inside_sql}) OVER (ORDER BY recorded_at) AS was_inside"
            f"  FROM lake_locationpoint WHERE user_id = %s {window}"
            ") fixes WHERE inside <> was_inside ORDER BY recorded_at",
            [*inside_params, *inside_params, geofence.user_id, *([since] if since else [])],
        )
        return [
            Crossing(at=at, direction="enter" if inside else "exit", lat=lat, lon=lon)
            for at, inside, lat, lon in cursor.fetchall()
        ]


def _crossing_event(geofence: Geofence, crossing: Crossing) -> EventRecord:
    # The same record whichever way the crossing was found (a full pass after an
    # import, or a streamed fix): one content hash, one event.
    return EventRecord(
        kind=f"geofence.{crossing.direction}",
        occurred_at=crossing.at,
        title=f"{'Entered' if crossing.direction == 'enter' else 'Left'} {geofence.name}",
        latitude=crossing.lat,
        longitude=crossing.lon,
        data={"geofence_id": geofence.pk, "geofence": geofence.name},
    )


def geofence_events_emit(*, geofence_id: int) -> int:
    """Store the geofence's crossings as events; returns how many were new.

    Idempotent (same crossing, same content hash: a duplicate). Quietly 0 if the
    geofence is gone. Runs inside the caller's user_context.
    """
    geofence = Geofence.objects.filter(pk=geofence_id).first()
    if geofence is None:
        return 0
    records = [_crossing_event(geofence, c) for c in geofence_crossings(geofence=geofence)]
    if not records:
        return 0
    return records_store(user_id=geofence.user_id, source=SOURCE, records=records).written


def _fix_at_or_before(user_id: int, moment: dt.datetime) -> dt.datetime | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(recorded_at) FROM lake_locationpoint WHERE user_id = %s AND recorded_at < %s",
            [user_id, moment],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _newest_fix(geofence: Geofence) -> tuple[dt.datetime, bool] | None:
    inside_sql, inside_params = _inside_sql(geofence)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT recorded_at, {inside_sql} FROM lake_locationpoint WHERE user_id = %s"
            " ORDER BY recorded_at DESC LIMIT 1",
            [*inside_params, geofence.user_id],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def geofence_crossings_advance(*, user_id: int, earliest: dt.datetime) -> int:
    """Crossings made by fixes just stored (the oldest of them at ``earliest``); new events.

    Incremental: each geofence's state says where the owner was as of the newest
    fix judged, so only later fixes are read. A fix older than that (late, or out
    of order) reopens the span from the fix before it: the crossings stored there
    are replaced by the ones the fixes now show. Idempotent (a second call finds
    nothing new). Locks each geofence's state row (by geofence id, in order), so
    two requests of one user advance it one after the other. Runs in the caller's
    transaction and user context.
    """
    written = 0
    geofences = list(Geofence.objects.filter(user_id=user_id).order_by("pk"))
    for geofence in geofences:
        GeofenceState.objects.get_or_create(
            geofence=geofence,
            defaults={"user_id": user_id, "fix_at": EPOCH, "inside": False},
        )
        state = GeofenceState.objects.select_for_update().get(geofence=geofence)
        if state.fix_at == EPOCH:
            since = None  # never judged: the whole history (there is no baseline yet)
        elif earliest > state.fix_at:
            since = state.fix_at  # in order: from the last judged fix on
        else:
            # Late: the span from the fix before the late one is judged again.
            since = _fix_at_or_before(user_id, earliest)
            stale = Event.objects.filter(
                user_id=user_id,
                kind__in=("geofence.enter", "geofence.exit"),
                data__geofence_id=geofence.pk,
            )
            if since is not None:
                stale = stale.filter(occurred_at__gt=since)
            stale.delete()
        records = [
            _crossing_event(geofence, c) for c in geofence_crossings(geofence=geofence, since=since)
        ]
        if records:
            written += records_store(user_id=user_id, source=SOURCE, records=records).written
        newest = _newest_fix(geofence)
        if newest is not None:
            state.fix_at, state.inside = newest
            state.save(update_fields=["fix_at", "inside"])
    return written
