"""What the owner's own pages show of the PII in their events.

The pages (dashboard, timeline, search, event detail) are the signed-in owner
reading their own data: a YouTube history whose channel names read
"C***** I*******" is useless to them. So the pages show every value as it is,
with each finding marked (``<mark data-entity="EMAIL_ADDRESS">``) so the owner
can find what the scanner found, except high-risk values (card numbers,
national ids, IBANs, bank numbers): those are masked, with a reveal button
that fetches the field through the audited reveal endpoint
(``POST /api/privacy/events/<id>/reveal/``, ``apps.privacy.services.pii_reveal``).
A glance over the shoulder or a screenshot should not carry a card number.

With ``UserSettings.mask_on_screen`` (the settings page, for screen sharing)
every finding is masked on the pages, each with its own reveal button.

Everything that leaves the server another way keeps the owner's
``RedactionPolicy``: the API (keys, tokens and sessions alike), exports and the
live feed (``apps.privacy.redaction``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from apps.core.user_settings import mask_on_screen
from apps.privacy.fields import field_value, value_digest
from apps.privacy.pii.models import RiskClass
from apps.privacy.pii.text_shapes import is_value_not_text
from apps.privacy.redaction import findings_of

# The key under which a payload carries its marks for the templates
# (``apps.privacy.templatetags.pii_marks``).
MARKS_KEY = "pii_marks"


@dataclass(frozen=True)
class Mark:
    """One finding as a page shows it: ``text[start:end]`` (code points) of a field."""

    start: int
    end: int
    entity_type: str
    risk: str
    masked: bool  # shown as <ENTITY_TYPE> with a reveal button


def marks_for_owner(*, user_id: int, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``payloads`` as the owner's pages show them: values unchanged, each payload with
    ``payload[MARKS_KEY]`` = {field: [Mark, ...]} for the fields that hold findings.

    Two queries whatever the number of payloads. Payloads without findings come
    back as they were; the others as copies (the caller's dicts are not changed).
    A finding whose span no longer holds what was found (the text changed since
    the scan) masks its whole field when it is high risk, and is not marked
    otherwise: the page never shows a high-risk value it cannot place.
    """
    ids = [p["id"] for p in payloads if isinstance(p.get("id"), int)]
    if not ids:
        return payloads
    rows = findings_of(user_id=user_id, event_ids=ids)
    if not rows:
        return payloads
    mask_all = mask_on_screen(user_id=user_id)
    by_event: dict[int, dict[str, list[tuple]]] = {}
    for event_id, field, *finding in rows:
        by_event.setdefault(event_id, {}).setdefault(field, []).append(tuple(finding))
    out: list[dict[str, Any]] = []
    for payload in payloads:
        fields = by_event.get(payload.get("id"))  # type: ignore[arg-type]
        if not fields:
            out.append(payload)
            continue
        marks = {
            field: field_marks
            for field, spans in fields.items()
            if (field_marks := _field_marks(payload, field, spans, mask_all, user_id))
        }
        if marks:
            payload = copy.copy(payload)
            payload[MARKS_KEY] = marks
        out.append(payload)
    return out


def _field_marks(
    payload: dict[str, Any], field: str, spans: list[tuple], mask_all: bool, user_id: int
) -> list[Mark]:
    text = field_value(payload, field)
    if text is None or is_value_not_text(text):
        return []  # not on the page, or a value (a number): never marked
    marks: list[Mark] = []
    for entity, risk, start, end, digest in spans:
        masked = mask_all or risk == RiskClass.HIGH
        if end > len(text) or value_digest(user_id=user_id, value=text[start:end]) != digest:
            if masked:
                return [Mark(0, len(text), entity, risk, masked=True)]
            continue
        marks.append(Mark(start, end, entity, risk, masked=masked))
    return _without_overlaps(marks)


def _without_overlaps(marks: list[Mark]) -> list[Mark]:
    """Marks in order, none inside another (the scanner resolves overlaps, but rows
    of two scanner versions may coexist until a rescan)."""
    kept: list[Mark] = []
    for mark in sorted(marks, key=lambda m: (m.start, -m.end)):
        if kept and mark.start < kept[-1].end:
            if mark.masked and not kept[-1].masked:
                kept[-1] = Mark(
                    kept[-1].start,
                    max(kept[-1].end, mark.end),
                    mark.entity_type,
                    mark.risk,
                    masked=True,
                )
            continue
        kept.append(mark)
    return kept
