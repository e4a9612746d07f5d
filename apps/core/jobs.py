"""One shape for every background run the project records (imports, exports, backups,
archive policy runs): a status, when it was asked for, started and finished, and why
it failed.

The transitions are single UPDATEs of the row rather than ``save()``: a run's
counters are bumped by its worker with ``F()`` expressions while the page and the
live feed read the row from other connections, so a transition writes only the
columns it is about. Each one also sets them on the instance it was called on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.utils import timezone

from apps.core.advisory_locks import session_lock

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    PENDING = "pending"  # asked for, not picked up yet
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # ``error`` says why


class Job(models.Model):
    """Abstract: the fields and transitions a run shares. ``Model.Status`` is
    ``JobStatus`` unless a model declares its own (with these four values in it)."""

    Status = JobStatus

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        """Done or failed: running it again returns it as it is."""
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    def start(self, *, keep_first_start: bool = False, **fields: Any) -> None:
        """Running from now, with no error. ``keep_first_start``: a resumed run
        keeps the time it first started."""
        started = self.started_at if keep_first_start and self.started_at else timezone.now()
        self._transition(status=JobStatus.RUNNING, started_at=started, error="", **fields)

    def finish(self, *, status: str = JobStatus.DONE, **fields: Any) -> None:
        """Finished now; ``status`` for a model with other final states (partial)."""
        self._transition(status=status, finished_at=timezone.now(), **fields)

    def fail(self, error: str, **fields: Any) -> None:
        """Failed now, for the reason ``error`` (shown to whoever asked for the run)."""
        self._transition(status=JobStatus.FAILED, error=error, finished_at=timezone.now(), **fields)

    def _transition(self, **fields: Any) -> None:
        type(self)._default_manager.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)


J = TypeVar("J", bound=Job)


def job_run_once(model: type[J], pk: int, *, lock: int, work: Callable[[J], J]) -> J | None:
    """``work(job)`` for the unfinished job ``pk``, holding the session advisory lock
    ``(lock, pk)`` meanwhile. A finished job is returned as it is; None when the job
    is gone, or when another process holds the lock (that one is running it)."""
    job = model._default_manager.filter(pk=pk).first()
    if job is None:
        return None
    if job.is_finished:
        return job
    with session_lock(lock, job.pk) as locked:
        if not locked:
            logger.info("%s %s is being run elsewhere", model._meta.model_name, pk)
            return None
        return work(job)
