"""Celery's retry options for work that a lost database connection interrupts."""

from __future__ import annotations

from typing import Any

import psycopg
from django import db as django_db

# Errors of the connection, not of the work: what was committed is kept and the
# services resume from what they stored, so the work is worth another try.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    django_db.OperationalError,
    django_db.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)

# For @shared_task(**RETRY_ON_LOST_CONNECTION): acknowledged after the run (a
# worker that dies mid-run leaves the task queued), retried on connection
# errors with backoff and jitter, from 30 s up to 10 min, 8 times.
RETRY_ON_LOST_CONNECTION: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": CONNECTION_ERRORS,
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
