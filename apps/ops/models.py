"""What the backup service and the archive policies did, run by run (shown in the admin).

pgBackRest's repository is the truth about which backups exist; these rows are the
log of what Datapunk asked for and what came of it, kept even when a run failed.
"""

from __future__ import annotations

from django.db import models

from apps.core.jobs import Job


class BackupRun(Job):
    class Kind(models.TextChoices):
        FULL = "full"
        INCR = "incr"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # pgBackRest's label, e.g. 20261201-031500F or 20261201-031500F_20261202-031500I.
    label = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True, help_text="database size restored")
    repo_bytes = models.BigIntegerField(
        null=True, blank=True, help_text="bytes this backup added to the repository"
    )
    uploads_files = models.IntegerField(null=True, blank=True)
    uploads_bytes = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} backup {self.label or self.pk} [{self.status}]"


class ArchiveRun(Job):
    """One run of the archive policies: what was compressed away or removed, and why not."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        PARTIAL = "partial"  # some items failed (named in ``error``); they stay where they were
        FAILED = "failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    uploads_archived = models.IntegerField(default=0)
    uploads_bytes = models.BigIntegerField(default=0, help_text="bytes of parts before compression")
    uploads_kept = models.IntegerField(
        default=0, help_text="old parts kept because an unfinished import reads them"
    )
    quarantine_archived = models.IntegerField(default=0)
    archive_path = models.TextField(blank=True, help_text="folder this run wrote to")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"archive run {self.pk} [{self.status}]"
