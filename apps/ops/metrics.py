"""Prometheus gauges for the last good backup, read from BackupRun at scrape time."""

from __future__ import annotations

import math

from django.utils import timezone
from prometheus_client import Gauge


def _last_ok():
    from apps.ops.models import BackupRun

    return BackupRun.objects.filter(status=BackupRun.Status.DONE).order_by("-finished_at").first()


def _age() -> float:
    try:
        last = _last_ok()
    except Exception:  # a scrape must not fail because the database is away
        return math.nan
    if last is None or last.finished_at is None:
        return math.nan
    return (timezone.now() - last.finished_at).total_seconds()


def _size() -> float:
    try:
        last = _last_ok()
    except Exception:
        return math.nan
    return float(last.size_bytes) if last is not None and last.size_bytes is not None else math.nan


LAST_BACKUP_AGE = Gauge(
    "datapunk_backup_last_success_age_seconds",
    "Seconds since the last successful backup finished (NaN: none yet)",
)
LAST_BACKUP_AGE.set_function(_age)
LAST_BACKUP_SIZE = Gauge(
    "datapunk_backup_last_success_size_bytes",
    "Database size captured by the last successful backup (NaN: none yet)",
)
LAST_BACKUP_SIZE.set_function(_size)
