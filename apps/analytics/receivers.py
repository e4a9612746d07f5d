"""After the lake stores rows: queue the series refresh and geofence crossings.

Quick, after commit, and never failing the sender (apps/lake/signals.py). Two
run at once, in the sender's transaction: a device's new fixes advance the
geofence crossings (apps/stream/devices/signals.py), and a user's new time zone
re-cuts their days (apps/core/signals.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from apps.core.queueing import queue_after_commit
from apps.core.signals import time_zone_changed
from apps.lake.signals import events_stored, import_finished
from apps.stream.devices.signals import fixes_stored


@receiver(import_finished, dispatch_uid="analytics.import_finished")
def on_import_finished(sender: Any, *, user_id: int, import_id: int, **kwargs: Any) -> None:
    from apps.analytics.tasks import emit_geofence_events, refresh_aggregates

    # An archive may hold any years: refresh all of the user's days.
    queue_after_commit(refresh_aggregates, user_id)
    queue_after_commit(emit_geofence_events, user_id)


@receiver(events_stored, dispatch_uid="analytics.events_stored")
def on_events_stored(
    sender: Any,
    *,
    user_id: int,
    source: str,
    event_ids: list[int],
    span: tuple[datetime, datetime],
    **kwargs: Any,
) -> None:
    from apps.analytics.tasks import refresh_aggregates

    # The sender says when its events happened (apps/lake/pipeline.py).
    first, last = span
    queue_after_commit(refresh_aggregates, user_id, first.isoformat(), last.isoformat())


@receiver(time_zone_changed, dispatch_uid="analytics.time_zone_changed")
def on_time_zone_changed(sender: Any, *, user_id: int, **kwargs: Any) -> None:
    from apps.analytics.aggregates import refresh_user_days

    # The user's days begin at other moments now: re-cut them at once.
    refresh_user_days(user_id=user_id)


@receiver(fixes_stored, dispatch_uid="analytics.fixes_stored")
def on_fixes_stored(sender: Any, *, user_id: int, earliest: datetime, **kwargs: Any) -> None:
    from apps.analytics.geofences import geofence_crossings_advance

    # In the device's storing transaction: a crossing is stored with its fix.
    geofence_crossings_advance(user_id=user_id, earliest=earliest)
