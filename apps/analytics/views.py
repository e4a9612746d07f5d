"""Pages: the dashboard (the home page), the timeline, an event's details and the map. Thin."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.analytics.filters import EventFilters, FilterError, event_filters_from_params
from apps.analytics.models import Geofence
from apps.analytics.selectors import dashboard_summary
from apps.analytics.timeline import (
    Cursor,
    event_for_owner_page,
    page_size_from,
    timeline_days,
    timeline_page,
)
from apps.lake.metric_models import HealthMetric
from apps.lake.models import Event


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = dashboard_summary(user_id=_user(request).pk)
    recent = timeline_page(
        user=_user(request), filters=EventFilters(), limit=8, for_owner_page=True
    )
    return render(
        request,
        "analytics/dashboard.html",
        {**summary, "recent": recent.events, "nav": "dashboard"},
    )


def _known_kinds(user) -> list[str]:
    return list(
        Event.objects.filter(user=user).order_by("kind").values_list("kind", flat=True).distinct()
    )


@login_required
def timeline(request: HttpRequest) -> HttpResponse:
    error = ""
    page = None
    days = []
    filters = EventFilters()
    try:
        filters = event_filters_from_params(request.GET, user=_user(request))
        token = request.GET.get("cursor")
        cursor = Cursor.decode(token) if token else None
        page = timeline_page(
            user=_user(request),
            filters=filters,
            cursor=cursor,
            limit=page_size_from(request.GET.get("limit")),
            for_owner_page=True,
        )
        days = timeline_days(user_id=_user(request).pk, page=page, filters=filters, cursor=cursor)
    except FilterError as exc:
        error = str(exc)
    first = request.GET.copy()
    first.pop("cursor", None)
    next_query = ""
    if page and page.next_cursor:
        query = request.GET.copy()
        query["cursor"] = page.next_cursor
        next_query = query.urlencode()
    return render(
        request,
        "analytics/timeline.html",
        {
            "nav": "timeline",
            "error": error,
            "events": page.events if page else [],
            "days": days,
            "next_query": next_query,
            "is_first_page": not request.GET.get("cursor"),
            "first_query": first.urlencode(),
            "filters": filters,
            "params": request.GET,
            "kinds": _known_kinds(_user(request)),
            "geofences": Geofence.objects.filter(user=_user(request)),
            "has_any": Event.objects.filter(user=_user(request)).exists()
            or HealthMetric.objects.filter(user=_user(request)).exists(),
        },
    )


@login_required
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    """One event, all its fields and data, PII marked (high risk masked, click to reveal)."""
    try:
        event = event_for_owner_page(user=_user(request), event_id=event_id)
    except (Event.DoesNotExist, OverflowError):
        raise Http404("No such event.") from None
    return render(request, "analytics/event_detail.html", {"nav": "timeline", "event": event})


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "analytics/map.html",
        {
            "nav": "map",
            "map_config": {
                "tileUrl": settings.DATAPUNK_MAP_TILE_URL,
                "attribution": settings.DATAPUNK_MAP_TILE_ATTRIBUTION,
                "start": request.GET.get("start", ""),
                "end": request.GET.get("end", ""),
            },
        },
    )


@login_required
def health_page(request: HttpRequest) -> HttpResponse:
    from apps.analytics.health import health_charts

    charts = health_charts(user_id=_user(request).pk)
    return render(request, "analytics/health.html", {"nav": "health", "charts": charts})
