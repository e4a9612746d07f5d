"""Reads for the analytics pages and API: always one user's rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Count

from apps.analytics import aggregates
from apps.analytics.models import Geofence
from apps.lake.models import Event, LocationPoint, Place, Visit
from apps.privacy.redaction import redact_event_payloads

# The dashboard charts the busiest kinds one by one and folds the rest.
CHART_KINDS = 6
MAP_VISITS_LIMIT = 2_000
MAP_EVENTS_LIMIT = 2_000


def geofence_payload(geofence: Geofence) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": geofence.pk,
        "name": geofence.name,
        "created_at": geofence.created_at.isoformat(),
    }
    if geofence.area is not None:
        payload["area"] = {
            "type": "Polygon",
            "coordinates": [list(map(list, ring)) for ring in geofence.area.coords],
        }
    else:
        assert geofence.center is not None
        payload.update(lat=geofence.center.y, lon=geofence.center.x, radius_m=geofence.radius_m)
    return payload


def visits_for_map(
    *, user_id: int, start: dt.datetime | None, end: dt.datetime | None
) -> list[dict[str, Any]]:
    queryset = Visit.objects.filter(user_id=user_id).select_related("place")
    if start:
        queryset = queryset.exclude(ended_at__lt=start)
    if end:
        queryset = queryset.filter(started_at__lt=end)
    result = []
    for visit in queryset.order_by("started_at")[:MAP_VISITS_LIMIT]:
        location = visit.location or (visit.place.location if visit.place else None)
        if location is None:
            continue
        result.append(
            {
                "lat": location.y,
                "lon": location.x,
                "started_at": visit.started_at.isoformat(),
                "ended_at": visit.ended_at.isoformat() if visit.ended_at else None,
                "name": (visit.place.name or visit.place.address) if visit.place else "",
            }
        )
    return result


def located_events(
    *, user_id: int, start: dt.datetime | None, end: dt.datetime | None
) -> list[dict[str, Any]]:
    """Events with a position (photos, saved places, geofence crossings), for map markers:
    only what a marker shows (kind, title, time)."""
    queryset = Event.objects.filter(user_id=user_id, location__isnull=False).exclude(
        kind__startswith="location."
    )
    if start:
        queryset = queryset.filter(occurred_at__gte=start)
    if end:
        queryset = queryset.filter(occurred_at__lt=end)
    return marker_payloads(
        user_id=user_id,
        events=queryset.order_by("-occurred_at").only(
            "id", "kind", "title", "occurred_at", "location"
        )[:MAP_EVENTS_LIMIT],
    )


def marker_payloads(*, user_id: int, events: Iterable[Event]) -> list[dict[str, Any]]:
    """Map markers of located events; their titles pass the owner's redaction in one call."""
    payloads = [
        {
            "id": event.id,
            "kind": event.kind,
            "title": event.title[:200],
            "text": "",
            "url": "",
            "data": {},
            "occurred_at": event.occurred_at.isoformat(),
            "lat": event.location.y,  # type: ignore[union-attr]  # location__isnull=False
            "lon": event.location.x,  # type: ignore[union-attr]
        }
        for event in events
    ]
    redacted = redact_event_payloads(user_id=user_id, payloads=payloads)
    for payload in redacted:
        for key in ("text", "url", "data"):
            payload.pop(key, None)
    return redacted


def _point_count(user_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM lake_locationpoint WHERE user_id = %s", [user_id])
        return int(cursor.fetchone()[0])


def dashboard_summary(*, user_id: int) -> dict[str, Any]:
    """Totals and chart series for the dashboard. Counts per kind come from the
    daily series (cheap on any history); undated items are counted from the lake."""
    kinds = {
        row["kind"]: row["count"]
        for row in Event.objects.filter(user_id=user_id)
        .values("kind")
        .annotate(count=Count("id"))
        .order_by()
    }
    span = aggregates.series_span(user_id=user_id)
    events_by_kind = aggregates.events_per_day(user_id=user_id)
    distance = aggregates.distance_per_day(user_id=user_id)
    media = aggregates.media_minutes_per_day(user_id=user_id)

    days = sorted({row["day"] for row in events_by_kind + distance + media})
    totals: dict[str, int] = {}
    for row in events_by_kind:
        totals[row["key"]] = totals.get(row["key"], 0) + row["events"]
    top = sorted(totals, key=lambda kind: (-totals[kind], kind))[:CHART_KINDS]
    index = {day: i for i, day in enumerate(days)}
    stacks: dict[str, list[int]] = {kind: [0] * len(days) for kind in [*top, "other"]}
    for row in events_by_kind:
        key = row["key"] if row["key"] in top else "other"
        stacks[key][index[row["day"]]] += row["events"]
    if not any(stacks["other"]):
        del stacks["other"]
    km = [0.0] * len(days)
    for row in distance:
        km[index[row["day"]]] = row["km"]
    minutes: dict[str, list[float]] = {}
    for row in media:
        minutes.setdefault(row["key"], [0.0] * len(days))[index[row["day"]]] = row["minutes"]

    return {
        "events": sum(kinds.values()),
        "kinds": sorted(kinds.items(), key=lambda item: (-item[1], item[0])),
        "points": _point_count(user_id),
        "visits": Visit.objects.filter(user_id=user_id).count(),
        "places": Place.objects.filter(user_id=user_id).count(),
        "geofences": Geofence.objects.filter(user_id=user_id).count(),
        "span": span,
        "series_ready": span is not None,
        "chart": {
            "days": [day.isoformat() for day in days],
            "events": stacks,
            "km": km,
            "media": minutes,
        },
        "total_km": round(sum(km), 1),
        "media_minutes": round(sum(sum(values) for values in minutes.values())),
        "last_fix": LocationPoint.objects.filter(user_id=user_id)
        .order_by("-recorded_at")
        .values_list("recorded_at", flat=True)
        .first(),
    }
