from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.jobs import Job


class AuditEntry(models.Model):
    """One thing that happened to a user's data or account; append-only.

    ``user_id`` and ``actor_id`` are plain numbers, not foreign keys: the entry
    that records a deletion must outlive the user it speaks of.
    """

    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)  # whose data
    actor_id = models.BigIntegerField(null=True, blank=True)  # who acted (None: the system)
    action = models.CharField(max_length=64)  # "login", "reveal", "export", "delete", ...
    target = models.TextField(blank=True)  # what it acted on, e.g. "event:123.text"
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.target}"


class Export(Job):
    """One "download all my data" job: a zip of every row the user owns."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports"
    )
    tables_total = models.IntegerField(default=0)
    tables_done = models.IntegerField(default=0)
    rows_written = models.BigIntegerField(default=0)
    # {"lake_event": 123, ...}: rows per table in the zip (also its manifest.json).
    counts = models.JSONField(default=dict, blank=True)
    file_size = models.BigIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Export {self.pk} of user {self.user_id} [{self.status}]"

    @property
    def progress(self) -> float:
        return self.tables_done / self.tables_total if self.tables_total else 0.0


# PII detection and masking: their models live in their own module.
from apps.privacy.pii.models import PiiFinding, PiiScanState, RedactionPolicy, RiskClass  # noqa: E402

__all__ = ["AuditEntry", "Export", "PiiFinding", "PiiScanState", "RedactionPolicy", "RiskClass"]
