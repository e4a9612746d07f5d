"""Reads of PII findings for views, the API and templates."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from apps.lake.models import Event
from apps.privacy.pii.models import PiiFinding, PiiScanState, RiskClass

EVENT_PAYLOAD_COLUMNS = ("id", "source", "kind", "occurred_at", "title", "text", "url", "data")


def findings_of(
    *, user_id: int, event_id: int | None = None, risk: str | None = None
) -> QuerySet[PiiFinding]:
    findings = PiiFinding.objects.filter(user_id=user_id)
    if event_id is not None:
        findings = findings.filter(event_id=event_id)
    if risk:
        findings = findings.filter(risk=risk)
    return findings.order_by("-occurred_at", "event_id", "field", "span_start")


def finding_counts_of(*, user_id: int) -> dict[str, int]:
    """Findings per risk class, every class present (0 when none)."""
    counts = dict.fromkeys(RiskClass.values, 0)
    rows = PiiFinding.objects.filter(user_id=user_id).values("risk").annotate(n=Count("id"))
    for row in rows:
        counts[row["risk"]] = row["n"]
    return counts


def scan_state_of(*, user_id: int) -> PiiScanState | None:
    return PiiScanState.objects.filter(user_id=user_id).first()


def event_payload_of(*, user_id: int, event_id: int) -> dict[str, Any]:
    """One of the user's events as the API serializes it, before redaction.

    Raises Event.DoesNotExist when the event is not the user's.
    """
    return Event.objects.filter(user_id=user_id, id=event_id).values(*EVENT_PAYLOAD_COLUMNS).get()
