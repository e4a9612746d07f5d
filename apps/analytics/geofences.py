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

from apps.analytics.models import Geofence
from apps.lake.takeout.records import EventRecord
from apps.stream.pipeline import records_store

SOURCE = "analytics"
MAX_RADIUS_M = 100_000.0
MAX_POLYGON_VERTICES = 1_000


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


def geofence_crossings(*, geofence: Geofence) -> list[Crossing]:
    """Every enter and exit over the owner's fixes, oldest first."""
    inside_params: list[Any]
    if geofence.area is not None:
        inside_sql, inside_params = "ST_Covers(%s::geography, point)", [geofence.area.ewkt]
    else:
        assert geofence.center is not None  # the check constraint: a polygon or a circle
        inside_sql = "ST_DWithin(point, %s::geography, %s)"
        inside_params = [geofence.center.ewkt, geofence.radius_m]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recorded_at, inside, ST_Y(point::geometry), ST_X(point::geometry) FROM ("
            f"  SELECT recorded_at, point, {inside_sql} AS inside,"
            f"    lag({inside_sql}) OVER (ORDER BY recorded_at) AS was_inside"
            "  FROM lake_locationpoint WHERE user_id = %s"
            ") fixes WHERE inside <> was_inside ORDER BY recorded_at",
            [*inside_params, *inside_params, geofence.user_id],
        )
        return [
            Crossing(at=at, direction="enter" if inside else "exit", lat=lat, lon=lon)
            for at, inside, lat, lon in cursor.fetchall()
        ]


def geofence_events_emit(*, geofence_id: int) -> int:
    """Store the geofence's crossings as events; returns how many were new.

    Idempotent (same crossing, same content hash: a duplicate). Quietly 0 if the
    geofence is gone. Runs inside the caller's user_context.
    """
    geofence = Geofence.objects.filter(pk=geofence_id).first()
    if geofence is None:
        return 0
    records = [
        EventRecord(
            kind=f"geofence.{crossing.direction}",
            occurred_at=crossing.at,
            title=f"{'Entered' if crossing.direction == 'enter' else 'Left'} {geofence.name}",
            latitude=crossing.lat,
            longitude=crossing.lon,
            data={"geofence_id": geofence.pk, "geofence": geofence.name},
        )
        for crossing in geofence_crossings(geofence=geofence)
    ]
    if not records:
        return 0
    return records_store(user_id=geofence.user_id, source=SOURCE, records=records).written
