"""After the lake stores rows: queue the series refresh and geofence crossings.

Quick, after commit, and never failing the sender (apps/lake/signals.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from apps.core.queueing import queue_after_commit
from apps.lake.signals import events_stored, import_finished


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

    # The sender says when its events happened (apps/stream/pipeline.py).
    first, last = span
    queue_after_commit(refresh_aggregates, user_id, first.isoformat(), last.isoformat())
