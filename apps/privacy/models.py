from __future__ import annotations

from django.db import models


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


# PII detection and masking: their models live in their own module.
from apps.privacy.pii_models import PiiFinding, PiiScanState, RedactionPolicy, RiskClass  # noqa: E402

__all__ = ["AuditEntry", "PiiFinding", "PiiScanState", "RedactionPolicy", "RiskClass"]
