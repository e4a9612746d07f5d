"""The one set of Celery task options of the project, and the decorator that applies it.

Every task is acknowledged after its run and retried when the database
connection is lost under it; a task needing more (``bind=True``, its own
retries) adds to the preset, never restates it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from celery import shared_task
from django import db as django_db

# Errors of the connection, not of the work: what was committed is kept and the
# services resume from what they stored, so the work is worth another try.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    django_db.OperationalError,
    django_db.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)

# The preset (applied by @datapunk_task): acknowledged after the run (a
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


def datapunk_task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``@shared_task`` with RETRY_ON_LOST_CONNECTION; ``options`` add to it.

    Only for work that is safe to run again: the tasks are idempotent (their
    docstrings say how), so a retry or a redelivery changes nothing twice.
    """
    return shared_task(**{**RETRY_ON_LOST_CONNECTION, **options})
