"""Queueing Celery work from code whose own work is already done."""

from __future__ import annotations

import logging
import reprlib
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def queue_after_commit(task: Any, *args: Any) -> None:
    """Queue ``task`` once the current transaction commits (at once outside one).

    A broker outage is logged, never raised: it must not fail the import or the
    request whose data is stored. What the task would have done is caught up
    later (the next import's backfill and scan, the hourly series refresh).
    """

    def send() -> None:
        try:
            task.delay(*args)
        except Exception:
            logger.exception("could not queue %s%s", task.name, reprlib.repr(args))

    transaction.on_commit(send)


class QueueUnavailable(Exception):
    """The broker refused a task whose row is already stored."""


def queue_now(task: Any, *args: Any) -> None:
    """Queue ``task`` now, for a request whose row has committed (no atomic block).

    Raises QueueUnavailable, with the broker's error logged, so the view answers
    503 with what was stored instead of a 500 after the row was created.
    """
    try:
        task.delay(*args)
    except Exception as exc:
        logger.exception("could not queue %s%s", task.name, reprlib.repr(args))
        raise QueueUnavailable(f"the task queue is unavailable ({type(exc).__name__})") from exc
