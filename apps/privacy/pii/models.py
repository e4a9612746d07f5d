"""PII findings, the scan cursor and the owner's masking policy (imported by models.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RiskClass(models.TextChoices):
    HIGH = "high"  # national IDs, cards, IBAN and bank numbers
    MEDIUM = "medium"  # e-mail addresses, phone numbers, IP addresses
    LOW = "low"  # person names, usernames


class PiiFinding(models.Model):
    """One span of one text field of one event that looks like PII.

    Event is a hypertable without a primary-key constraint, so the event is
    named by (``event_id``, ``occurred_at``) rather than by a foreign key; the
    pair also lets a lookup reach the right chunk. The value itself is never
    stored, only a keyed digest of it (``apps.privacy.fields.value_digest``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    event_id = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    # "title", "text", "url", or "data/<key>/<index>/..." for a string inside Event.data.
    field = models.CharField(max_length=255)
    entity_type = models.CharField(max_length=32)
    risk = models.CharField(max_length=8, choices=RiskClass.choices)
    span_start = models.PositiveIntegerField()
    span_end = models.PositiveIntegerField()
    score = models.FloatField()
    value_digest = models.CharField(max_length=16)
    scanner_version = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event_id", "field", "span_start"], name="privacy_finding_span"
            )
        ]
        indexes = [models.Index(fields=["user", "event_id"], name="privacy_finding_event")]
        ordering = ["event_id", "field", "span_start"]

    def __str__(self) -> str:
        return f"{self.entity_type} in event {self.event_id}.{self.field}[{self.span_start}:{self.span_end}]"


class PiiScanState(models.Model):
    """How far the backfill scan of a user's events got: a high-water mark on Event.id.

    Event ids come from a sequence, so events added later (a second Takeout,
    older data included) always lie above the mark.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pii_scan_state"
    )
    last_event_id = models.BigIntegerField(default=0)
    events_scanned = models.BigIntegerField(default=0)
    findings_stored = models.BigIntegerField(default=0)
    scanner_version = models.CharField(max_length=8, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"PII scan of user {self.user_id} up to event {self.last_event_id}"


class RedactionPolicy(models.Model):
    """What the owner's API responses and exports show of each risk class."""

    class Action(models.TextChoices):
        SHOW = "show"  # the value as it is
        MASK = "mask"  # <EMAIL_ADDRESS>
        PARTIAL = "partial"  # j***@example.com, ************1881, D** J******
        HASH = "hash"  # <EMAIL_ADDRESS:3f2a9c1b0d4e5f60>, stable per user

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="redaction_policy"
    )
    high = models.CharField(max_length=8, choices=Action.choices, default=Action.MASK)
    medium = models.CharField(max_length=8, choices=Action.choices, default=Action.MASK)
    low = models.CharField(max_length=8, choices=Action.choices, default=Action.PARTIAL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "redaction policies"

    def __str__(self) -> str:
        return f"high={self.high} medium={self.medium} low={self.low}"

    def action_for(self, risk: str) -> str:
        return str(getattr(self, risk, self.Action.MASK))
