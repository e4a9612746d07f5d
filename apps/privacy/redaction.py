"""Masking what an event says before it leaves the server (API responses, exports).

Every response or export that carries events' text passes the serialized events
through ``redact_event_payloads`` in one call per page: one query reads the
page's findings together with the owner's policy. The policy per risk class
decides what is shown, masked, partly masked or hashed; a reveal is a separate,
audited request (``apps.privacy.services.pii_reveal``).

Only the span of a finding changes, in the field it was found in: never a
number (JSON numbers are not scanned, and a string that is a number,
coordinate, timestamp or id is never masked, whatever an older scanner
stored), never the structure of ``data``. Fail closed: a finding whose span
no longer holds the value that was found (the serializer cut or changed the
text) masks its whole field.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from apps.privacy.fields import field_set, field_value, value_digest
from apps.privacy.pii.models import PiiFinding, RedactionPolicy
from apps.privacy.pii.text_shapes import is_value_not_text

Action = RedactionPolicy.Action
REDACTED_FIELD = "<REDACTED>"
_DEFAULTS = {
    "high": RedactionPolicy._meta.get_field("high").default,
    "medium": RedactionPolicy._meta.get_field("medium").default,
    "low": RedactionPolicy._meta.get_field("low").default,
}
_NAME_LIKE = {"PERSON", "USERNAME"}


def partial_mask(entity_type: str, value: str) -> str:
    """Enough of a value to recognise it, not to use it."""
    if entity_type == "EMAIL_ADDRESS" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if entity_type in _NAME_LIKE:
        return re.sub(r"(\w)(\w*)", lambda m: m.group(1) + "*" * len(m.group(2)), value)
    if entity_type == "IP_ADDRESS":
        head = re.split(r"[.:]", value, maxsplit=1)[0]
        return head + re.sub(r"[0-9A-Za-z]", "*", value[len(head) :])
    # Numbers (cards, IBAN, IDs, phones): the last four characters, as on a receipt.
    alnum = [i for i, char in enumerate(value) if char.isalnum()]
    keep = set(alnum[-4:]) if len(alnum) >= 8 else set()
    return "".join(char if i in keep or not char.isalnum() else "*" for i, char in enumerate(value))


def partially_masked_texts(texts: list[str]) -> list[str]:
    """``texts`` with every PII finding partly masked (quarantine reasons and
    excerpts as the lake shows them; apps/lake/hooks.py)."""
    from apps.privacy.pii.scanner import pii_scanner  # presidio loads on first use

    findings = pii_scanner().scan_texts(texts) if texts else []
    masked = []
    for text, found in zip(texts, findings, strict=True):
        for finding in sorted(found, key=lambda one: one.start, reverse=True):
            value = text[finding.start : finding.end]
            text = (
                text[: finding.start]
                + partial_mask(finding.entity_type, value)
                + text[finding.end :]
            )
        masked.append(text)
    return masked


def replacement(*, action: str, entity_type: str, value: str, digest: str) -> str | None:
    """What stands in for ``value`` under ``action``; None to show it."""
    if action == Action.SHOW:
        return None
    if action == Action.PARTIAL:
        return partial_mask(entity_type, value)
    if action == Action.HASH:
        return f"<{entity_type}:{digest}>"
    return f"<{entity_type}>"


def _event_id(payload: dict[str, Any]) -> int | None:
    """The payload's event id, whether a serializer wrote it as a number or a string."""
    value = payload.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


FINDING_COLUMNS = (
    "event_id",
    "field",
    "entity_type",
    "risk",
    "span_start",
    "span_end",
    "value_digest",
)


def findings_of(*, user_id: int, event_ids: list[int], extra: tuple[str, ...] = ()) -> list[tuple]:
    """The user's findings on these events as FINDING_COLUMNS (+ ``extra``) rows, by
    event, field and position in the field: one query."""
    return list(
        PiiFinding.objects.filter(user_id=user_id, event_id__in=event_ids)
        .order_by("event_id", "field", "span_start")
        .values_list(*FINDING_COLUMNS, *extra)
    )


def redact_event_payloads(*, user_id: int, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return ``payloads`` (dicts with at least ``id`` and the event's text fields:
    ``title``, ``text``, ``url``, ``data``) with PII masked per ``user_id``'s policy.

    One query per call. Payloads without findings come back as they were (the
    same objects); payloads with findings come back as masked copies.
    """
    ids = [event_id for p in payloads if (event_id := _event_id(p)) is not None]
    if not ids:
        return payloads
    rows = findings_of(
        user_id=user_id,
        event_ids=ids,
        extra=(
            "user__redaction_policy__high",
            "user__redaction_policy__medium",
            "user__redaction_policy__low",
        ),
    )
    if not rows:
        return payloads
    policy = {
        "high": rows[0][7] or _DEFAULTS["high"],
        "medium": rows[0][8] or _DEFAULTS["medium"],
        "low": rows[0][9] or _DEFAULTS["low"],
    }
    by_event: dict[int, dict[str, list[tuple]]] = {}
    for event_id, field, entity, risk, start, end, digest, *_ in rows:
        by_event.setdefault(event_id, {}).setdefault(field, []).append(
            (start, end, entity, risk, digest)
        )
    out: list[dict[str, Any]] = []
    for payload in payloads:
        event_id = _event_id(payload)
        fields = by_event.get(event_id) if event_id is not None else None
        out.append(payload if not fields else _redact_one(payload, fields, policy, user_id))
    return out


def _redact_one(
    payload: dict[str, Any],
    fields: dict[str, list[tuple]],
    policy: dict[str, str],
    user_id: int,
) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    for field, spans in fields.items():
        text = field_value(payload, field)
        if text is None or is_value_not_text(text):
            continue  # left out by the serializer, or a value (a number), never masked
        masked = text
        # Right to left, so earlier spans keep their offsets.
        for start, end, entity, risk, digest in sorted(spans, reverse=True):
            action = policy.get(risk, Action.MASK)
            value = text[start:end]
            if end > len(text) or value_digest(user_id=user_id, value=value) != digest:
                if action != Action.SHOW:
                    masked = REDACTED_FIELD
                    break
                continue
            stand_in = replacement(action=action, entity_type=entity, value=value, digest=digest)
            if stand_in is None:
                continue
            masked = masked[:start] + stand_in + masked[end:]
        if masked != text:
            field_set(payload, field, masked)
    return payload
