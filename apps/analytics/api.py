"""Analytics API: timeline, daily series, map data, stays, whereabouts, geofences.

Thin: parse the request (a 400 with a message on anything malformed), call a
selector or service with ``request.user``, answer. Every read is one user's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from apps.analytics import aggregates, spatial
from apps.analytics.filters import (
    FilterError,
    day_in_range,
    event_filters_from_params,
    finite_number,
)
from apps.analytics.geofences import GeofenceError, geofence_create
from apps.analytics.models import Geofence
from apps.analytics.selectors import geofence_payload
from apps.analytics.timeline import Cursor, page_size_from, timeline_page
from apps.core.api_errors import api_error
from apps.core.queueing import queue_after_commit
from apps.core.timezones import day_bounds, zone_of

MAX_MAP_POINTS = 20_000
MAX_STAY_RANGE = dt.timedelta(days=92)


def _user(request: Request) -> User:
    """The signed-in user; IsAuthenticated (the default permission) rules out AnonymousUser."""
    user = request.user
    assert isinstance(user, User)
    return user


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise FilterError(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD)")
    return day_in_range(day, value, name)


FILTER_PARAMETERS = [
    OpenApiParameter("source", str, description="sources, comma-separated"),
    OpenApiParameter("kind", str, description="kinds, comma-separated; youtube.* for a prefix"),
    OpenApiParameter("start", str, description="ISO date or date-time"),
    OpenApiParameter("end", str, description="ISO date (inclusive) or date-time"),
    OpenApiParameter("near", str, description="LAT,LON"),
    OpenApiParameter("radius", float, description="metres around near or place"),
    OpenApiParameter("place", int, description="one of your places"),
    OpenApiParameter("geofence", int, description="one of your geofences"),
    OpenApiParameter("q", str, description="full-text search in title and text"),
    OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
    OpenApiParameter("limit", int, description="events per page, 1-200 (default 50)"),
]


@extend_schema(parameters=FILTER_PARAMETERS, responses={200: None, 400: None})
@api_view(["GET"])
def events_list(request: Request) -> Response:
    """Your events from every source, newest first, filtered, a page at a time."""
    try:
        filters = event_filters_from_params(request.query_params, user=_user(request))
        cursor_token = request.query_params.get("cursor")
        cursor = Cursor.decode(cursor_token) if cursor_token else None
        limit = page_size_from(request.query_params.get("limit"))
    except FilterError as exc:
        return api_error(str(exc))
    page = timeline_page(user=_user(request), filters=filters, cursor=cursor, limit=limit)
    next_url = None
    if page.next_cursor:
        query = request.query_params.copy()
        query["cursor"] = page.next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return Response(
        {
            "filters": filters.echo,
            "results": page.events,
            "next_cursor": page.next_cursor,
            "next": next_url,
        }
    )


SERIES_READERS = {
    "events": aggregates.events_per_day,
    "media": aggregates.media_minutes_per_day,
    "distance": aggregates.distance_per_day,
}


@extend_schema(
    parameters=[
        OpenApiParameter("metric", str, enum=list(SERIES_READERS), required=True),
        OpenApiParameter("start", str, description="first day, YYYY-MM-DD"),
        OpenApiParameter("end", str, description="last day, YYYY-MM-DD (inclusive)"),
        OpenApiParameter("group_by", str, enum=["kind", "source"], description="events only"),
    ],
    responses={200: None, 400: None},
)
@api_view(["GET"])
def timeseries(request: Request) -> Response:
    """Daily series for a range: events per kind or source, media minutes, km travelled."""
    params = request.query_params
    metric = params.get("metric", "")
    if metric not in SERIES_READERS:
        return api_error(f"metric: one of {', '.join(SERIES_READERS)}")
    try:
        start, end = _date(params.get("start"), "start"), _date(params.get("end"), "end")
    except FilterError as exc:
        return api_error(str(exc))
    if start and end and end < start:
        return api_error("end must not be before start")
    kwargs: dict[str, Any] = {"user_id": _user(request).pk, "start": start, "end": end}
    if metric == "events":
        group_by = params.get("group_by", "kind")
        if group_by not in ("kind", "source"):
            return api_error("group_by: kind or source")
        kwargs["group_by"] = group_by
    rows = SERIES_READERS[metric](**kwargs)
    for row in rows:
        row["day"] = row["day"].isoformat()
    return Response({"metric": metric, "start": start, "end": end, "results": rows})


def _datetime_range(request: Request) -> tuple[dt.datetime | None, dt.datetime | None]:
    start = _date(request.query_params.get("start"), "start")
    end = _date(request.query_params.get("end"), "end")
    # Days of the user's time zone (apps/core/timezones.py).
    lower, upper = day_bounds(start, end, zone_of(_user(request).pk))
    if lower and upper and upper <= lower:
        raise FilterError("end must not be before start")
    return lower, upper


@extend_schema(
    parameters=[
        OpenApiParameter("start", str, description="first day, YYYY-MM-DD"),
        OpenApiParameter("end", str, description="last day, YYYY-MM-DD (inclusive)"),
    ],
    responses={200: None, 400: None},
)
@api_view(["GET"])
def map_data(request: Request) -> Response:
    """Points (evenly thinned to at most 20,000), visits and located events for the map."""
    from apps.analytics.selectors import located_events, visits_for_map

    try:
        lower, upper = _datetime_range(request)
    except FilterError as exc:
        return api_error(str(exc))
    points, total = spatial.map_points(
        user_id=_user(request).pk, start=lower, end=upper, limit=MAX_MAP_POINTS
    )
    return Response(
        {
            "points": points,
            "points_total": total,
            "visits": visits_for_map(user_id=_user(request).pk, start=lower, end=upper),
            "events": located_events(user_id=_user(request).pk, start=lower, end=upper),
        }
    )


@extend_schema(
    parameters=[
        OpenApiParameter("start", str, required=True, description="first day, YYYY-MM-DD"),
        OpenApiParameter("end", str, required=True, description="last day (inclusive)"),
    ],
    responses={200: None, 400: None},
)
@api_view(["GET"])
def stays(request: Request) -> Response:
    """Stays (fixes clustered by distance and dwell, merged with visits) in a range."""
    try:
        lower, upper = _datetime_range(request)
    except FilterError as exc:
        return api_error(str(exc))
    if lower is None or upper is None:
        return api_error("give start and end (YYYY-MM-DD)")
    if upper - lower > MAX_STAY_RANGE:
        return api_error(f"a range of at most {MAX_STAY_RANGE.days} days")
    try:
        found = spatial.stays_of(user_id=_user(request).pk, start=lower, end=upper)
    except spatial.RangeTooLarge as exc:
        return api_error(str(exc))
    return Response({"results": [stay.payload() for stay in found]})


@extend_schema(
    parameters=[
        OpenApiParameter("date", str, description="a day, YYYY-MM-DD: that day's whereabouts"),
        OpenApiParameter("at", str, description="a moment (ISO 8601): the nearest fix"),
    ],
    responses={200: None, 400: None},
)
@api_view(["GET"])
def where(request: Request) -> Response:
    """Where was I on a date (stays, path, distance, located events), or at a moment."""
    at_raw, date_raw = request.query_params.get("at"), request.query_params.get("date")
    if bool(at_raw) == bool(date_raw):
        return api_error("give date=YYYY-MM-DD or at=ISO date-time")
    if at_raw:
        try:
            moment = parse_datetime(at_raw)
        except ValueError:
            moment = None
        if moment is None:
            return api_error(f"at: {at_raw[:40]!r} is not an ISO 8601 date-time")
        try:
            day_in_range(moment.date(), at_raw, "at")
        except FilterError as exc:
            return api_error(str(exc))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone_of(_user(request).pk))
        return Response(
            {
                "at": moment.isoformat(),
                "fix": spatial.position_at(user_id=_user(request).pk, moment=moment),
            }
        )
    try:
        day = _date(date_raw, "date")
    except FilterError as exc:
        return api_error(str(exc))
    assert day is not None
    try:
        return Response(spatial.whereabouts_on(user_id=_user(request).pk, day=day))
    except spatial.RangeTooLarge as exc:
        return api_error(str(exc))


def _number(data: Any, name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    number = (
        None
        if isinstance(value, bool) or not isinstance(value, int | float | str)
        else finite_number(value)
    )
    if number is None:
        raise GeofenceError(f"{name}: a number")
    return number


@extend_schema(request=None, responses={200: None, 201: None, 400: None})
@api_view(["GET", "POST"])
def geofences(request: Request) -> Response:
    """Your geofences; POST {name, area: GeoJSON Polygon} or {name, lat, lon, radius_m}."""
    if request.method == "GET":
        return Response(
            {"results": [geofence_payload(g) for g in Geofence.objects.filter(user=_user(request))]}
        )
    data = request.data if isinstance(request.data, dict) else None
    if data is None:
        return api_error("send a JSON object")
    name = data.get("name")
    if not isinstance(name, str):
        return api_error("name: text")
    try:
        geofence = geofence_create(
            user=_user(request),
            name=name,
            area=data.get("area"),
            center_lat=_number(data, "lat"),
            center_lon=_number(data, "lon"),
            radius_m=_number(data, "radius_m"),
        )
    except GeofenceError as exc:
        return api_error(str(exc))
    from apps.analytics.tasks import emit_geofence_events

    queue_after_commit(emit_geofence_events, _user(request).pk, geofence.pk)
    return Response(geofence_payload(geofence), status=status.HTTP_201_CREATED)


@extend_schema(responses={200: None, 204: None, 404: None})
@api_view(["GET", "DELETE"])
def geofence_detail(request: Request, pk: int) -> Response:
    """One of your geofences; DELETE removes it (its past events stay on the timeline)."""
    geofence = Geofence.objects.filter(user=_user(request), pk=pk).first()
    if geofence is None:
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if request.method == "DELETE":
        geofence.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(geofence_payload(geofence))
