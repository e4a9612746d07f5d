"""Analytics work queued after imports and stream writes, and the hourly catch-up."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.analytics.aggregates import aggregates_refresh
from apps.analytics.geofences import geofence_events_emit
from apps.analytics.models import Geofence
from apps.core.db.context import system_context, user_context
from apps.core.retry import datapunk_task

# What the hourly refresh recomputes on a rollup table: a stream's late
# arrivals land within this window; older imports queue their own refresh.
CATCH_UP_WINDOW = dt.timedelta(days=2)


@datapunk_task()
def refresh_aggregates(
    user_id: int | None = None, start: str | None = None, end: str | None = None
) -> None:
    """Recompute the daily series for a user's days (ISO bounds; None: all). Idempotent."""
    lower = dt.datetime.fromisoformat(start) if start else None
    upper = dt.datetime.fromisoformat(end) if end else None
    if user_id is None:
        with system_context():
            aggregates_refresh(start=lower, end=upper)
        return
    with user_context(user_id):
        aggregates_refresh(user_id=user_id, start=lower, end=upper)


@datapunk_task()
def refresh_recent_aggregates() -> None:
    """The refresh policy of the rollup tables (beat, hourly): the last two days, all users."""
    now = timezone.now()
    with system_context():
        aggregates_refresh(start=now - CATCH_UP_WINDOW, end=now)


@datapunk_task()
def emit_geofence_events(user_id: int, geofence_id: int | None = None) -> None:
    """Store enter/exit events of one geofence, or of all the user's. Idempotent."""
    with user_context(user_id):
        ids = (
            [geofence_id]
            if geofence_id is not None
            else list(Geofence.objects.filter(user_id=user_id).values_list("pk", flat=True))
        )
        for pk in ids:
            geofence_events_emit(geofence_id=pk)


@datapunk_task()
def apply_chunk_policies() -> None:
    """Daily: compression and retention of old lake chunks per the settings."""
    from apps.analytics.policies import chunk_policies_apply

    with system_context():
        chunk_policies_apply()
