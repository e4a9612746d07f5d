"""Periodic upkeep of the stream app (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from apps.core.retry import datapunk_task
from apps.stream.services import inbound_deliveries_prune


@datapunk_task()  # a delete by age: safe to run twice
def prune_inbound_deliveries() -> int:
    """Forget replay-guard ids past the signature window; returns how many."""
    return inbound_deliveries_prune()
