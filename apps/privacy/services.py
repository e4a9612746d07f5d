"""PII scanning of stored events, the owner's masking policy, and audited reveals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.lake.models import Event
from apps.privacy.audit import audit_record
from apps.privacy.fields import event_fields, field_value, value_digest
from apps.privacy.pii.models import PiiFinding, PiiScanState, RedactionPolicy

# Events per transaction of the backfill: large enough for spaCy's batching and
# the memo of repeated strings, small enough that a crash redoes seconds of work.
SCAN_BATCH = 2_000
EVENT_COLUMNS = ("id", "occurred_at", "kind", "title", "text", "url", "data")
# Fields that are a person's name by what the event is, whatever the NER model says:
# a contact's display name (the title, vCard FN) and structured name (N).
NAME_FIELDS: dict[str, tuple[str, ...]] = {
    "contacts.contact": ("title", "data/properties/FN/", "data/properties/N/"),
}
# Fields that hold an IP address by what the export says they are (Spotify's
# extended streaming history logs the address of every stream).
IP_FIELDS: dict[str, tuple[str, ...]] = {
    "spotify.play": ("data/ip_addr", "data/ip_addr_decrypted"),
}


def _in_fields(fields: dict[str, tuple[str, ...]], kind: str, field: str) -> bool:
    return any(
        field == prefix or (prefix.endswith("/") and field.startswith(prefix))
        for prefix in fields.get(kind, ())
    )


def _is_name_field(kind: str, field: str) -> bool:
    return _in_fields(NAME_FIELDS, kind, field)


class RevealError(Exception):
    """A reveal the user asked for that cannot be answered (message for the user)."""


@dataclass
class ScanResult:
    events: int = 0
    findings: int = 0
    more: bool = False  # the backfill stopped at max_events with events left


def _findings_for(*, user_id: int, events: list[dict[str, Any]]) -> list[PiiFinding]:
    # Imported here: presidio and spaCy load only in processes that scan (workers).
    from apps.privacy.pii.scanner import SCANNER_VERSION, Finding, pii_scanner, resolve_overlaps

    slots: list[tuple[dict[str, Any], str, str]] = []
    for event in events:
        for name, text in event_fields(event):
            slots.append((event, name, text))
    results = pii_scanner().scan_texts([text for _, _, text in slots])
    rows: list[PiiFinding] = []
    for (event, name, text), findings in zip(slots, results, strict=True):
        if _is_name_field(event.get("kind", ""), name) and text.strip():
            findings = resolve_overlaps([*findings, Finding("PERSON", 0, len(text), 1.0)])
        elif _in_fields(IP_FIELDS, event.get("kind", ""), name) and any(c.isdigit() for c in text):
            # "unknown" and other placeholders are not addresses.
            findings = resolve_overlaps([*findings, Finding("IP_ADDRESS", 0, len(text), 1.0)])
        for finding in findings:
            rows.append(
                PiiFinding(
                    user_id=user_id,
                    event_id=event["id"],
                    occurred_at=event["occurred_at"],
                    field=name[:255],
                    entity_type=finding.entity_type,
                    risk=finding.risk,
                    span_start=finding.start,
                    span_end=finding.end,
                    score=finding.score,
                    value_digest=value_digest(
                        user_id=user_id, value=text[finding.start : finding.end]
                    ),
                    scanner_version=SCANNER_VERSION,
                )
            )
    return rows


def _replace_findings(*, user_id: int, events: list[dict[str, Any]]) -> int:
    """Scan ``events`` and make their stored findings exactly what was found now."""
    rows = _findings_for(user_id=user_id, events=events)
    PiiFinding.objects.filter(user_id=user_id, event_id__in=[e["id"] for e in events]).delete()
    PiiFinding.objects.bulk_create(rows, batch_size=5_000)
    return len(rows)


def pii_scan_events(*, user_id: int, event_ids: list[int]) -> ScanResult:
    """Scan (again) the named stored events of ``user_id``; streams are scanned as they
    are written (pii_scan_new_events), imports by pii_scan_backfill.

    Idempotent: an event scanned again has its findings replaced, never doubled.
    Ids of other users' events or of events gone are ignored. Locks nothing
    beyond the findings rows it replaces.
    """
    result = ScanResult()
    ids = sorted({int(event_id) for event_id in event_ids})
    for start in range(0, len(ids), SCAN_BATCH):
        chunk = ids[start : start + SCAN_BATCH]
        events = list(
            Event.objects.filter(user_id=user_id, id__in=chunk)
            .order_by("id")
            .values(*EVENT_COLUMNS)
        )
        if not events:
            continue
        with transaction.atomic():
            result.findings += _replace_findings(user_id=user_id, events=events)
        result.events += len(events)
    return result


def pii_scan_new_events(*, user_id: int, events: list[dict[str, Any]]) -> set[int]:
    """Scan events a stream is storing now (dicts with EVENT_COLUMNS), inside the
    storing transaction; returns the ids of the events something was found in.
    New events have no findings yet, so nothing is read back or replaced
    (pii_scan_events rescans by id)."""
    rows = _findings_for(user_id=user_id, events=events)
    PiiFinding.objects.bulk_create(rows, batch_size=5_000)
    return {row.event_id for row in rows}


def pii_scan_backfill(
    *,
    user_id: int,
    max_events: int | None = None,
    rescan: bool = False,
    batch_size: int = SCAN_BATCH,
) -> ScanResult:
    """Scan ``user_id``'s events above the scan cursor, batch by batch.

    Resumable: each batch's findings and the cursor advance in one transaction,
    so a crash redoes at most one batch. Idempotent: a batch redone replaces its
    findings. ``rescan`` starts over from the first event. Two workers on one
    user serialise on the PiiScanState row (SELECT ... FOR UPDATE per batch).
    """
    state, _ = PiiScanState.objects.get_or_create(user_id=user_id)
    if rescan:
        PiiScanState.objects.filter(pk=state.pk).update(
            last_event_id=0, events_scanned=0, findings_stored=0
        )
    result = ScanResult()
    while max_events is None or result.events < max_events:
        with transaction.atomic():
            state = PiiScanState.objects.select_for_update().get(pk=state.pk)
            limit = (
                batch_size if max_events is None else min(batch_size, max_events - result.events)
            )
            events = list(
                Event.objects.filter(user_id=user_id, id__gt=state.last_event_id)
                .order_by("id")
                .values(*EVENT_COLUMNS)[:limit]
            )
            if not events:
                return result
            found = _replace_findings(user_id=user_id, events=events)
            state.last_event_id = events[-1]["id"]
            state.events_scanned += len(events)
            state.findings_stored += found
            state.scanner_version = scanner_version()
            state.save()
        result.events += len(events)
        result.findings += found
    result.more = Event.objects.filter(user_id=user_id, id__gt=state.last_event_id).exists()
    return result


def scanner_version() -> str:
    from apps.privacy.pii.scanner import SCANNER_VERSION

    return SCANNER_VERSION


def redaction_policy_of(*, user_id: int) -> RedactionPolicy:
    """The user's policy; an unsaved default one (high and medium masked) if none is stored."""
    policy = RedactionPolicy.objects.filter(user_id=user_id).first()
    return policy or RedactionPolicy(user_id=user_id)


@transaction.atomic
def redaction_policy_set(*, user_id: int, high: str, medium: str, low: str) -> RedactionPolicy:
    """Store the user's policy (idempotent) and audit the change."""
    policy, _ = RedactionPolicy.objects.update_or_create(
        user_id=user_id, defaults={"high": high, "medium": medium, "low": low}
    )
    audit_record(
        action="pii.policy",
        user_id=user_id,
        actor_id=user_id,
        target=f"user:{user_id}",
        detail={"high": high, "medium": medium, "low": low},
    )
    return policy


def pii_reveal(
    *, user_id: int, actor_id: int, event_id: int, field: str, ip: str | None = None
) -> str:
    """The unmasked value of one field of one of ``user_id``'s events; audited.

    Not idempotent on purpose: every reveal is one audit entry. Raises
    Event.DoesNotExist for an event that is not the user's, RevealError for a
    field the event does not have.
    """
    event = Event.objects.filter(user_id=user_id, id=event_id).values(*EVENT_COLUMNS).get()
    value = field_value(event, field)
    if value is None:
        raise RevealError(f"Event {event_id} has no text field {field!r}.")
    audit_record(
        action="pii.reveal",
        user_id=user_id,
        actor_id=actor_id,
        target=f"event:{event_id}.{field}",
        detail={"kind": event["kind"]},
        ip=ip,
    )
    return value


@dataclass
class RescanResult:
    events: int = 0
    findings_before: int = 0
    findings_after: int = 0


def pii_rescan_outdated(
    *, user_id: int, progress: Callable[[int], None] | None = None
) -> RescanResult | None:
    """Rescan every event of ``user_id`` if any finding or the scan cursor is of an older
    scanner version; None when everything is current.

    Findings the current version does not confirm are removed (each event's findings
    are replaced by what is found now). Resumable and idempotent like
    pii_scan_backfill, whose cursor it restarts once: a rerun after a crash goes on
    from the cursor, since the cursor's version is then current.
    """
    current = scanner_version()
    state = PiiScanState.objects.filter(user_id=user_id).first()
    outdated = PiiFinding.objects.filter(user_id=user_id).exclude(scanner_version=current)
    cursor_old = state is not None and state.scanner_version not in ("", current)
    if not cursor_old and not outdated.exists():
        return None
    result = RescanResult(findings_before=PiiFinding.objects.filter(user_id=user_id).count())
    restart = cursor_old or state is None or state.last_event_id == 0
    if restart:
        # Mark the cursor as current before the first batch, so a crash resumes instead
        # of starting over; the scan below begins at event 0.
        PiiScanState.objects.update_or_create(
            user_id=user_id,
            defaults={
                "last_event_id": 0,
                "events_scanned": 0,
                "findings_stored": 0,
                "scanner_version": current,
            },
        )
    while True:
        step = pii_scan_backfill(user_id=user_id, max_events=SCAN_BATCH * 5)
        result.events += step.events
        if progress is not None:
            progress(result.events)
        if not step.more:
            break
    # Events below the cursor of a scan that was current but left older findings
    # (a backfill that ran before the bump and resumed after it).
    stale_ids = list(
        PiiFinding.objects.filter(user_id=user_id)
        .exclude(scanner_version=current)
        .values_list("event_id", flat=True)
        .distinct()
    )
    if stale_ids:
        result.events += pii_scan_events(user_id=user_id, event_ids=stale_ids).events
    result.findings_after = PiiFinding.objects.filter(user_id=user_id).count()
    return result
