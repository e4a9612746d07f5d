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
