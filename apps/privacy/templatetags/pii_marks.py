"""Printing an event's field on the owner's pages with its PII marked (see on_screen.py).

``{% pii_field event "title" 140 %}`` prints the field escaped, each finding in a
``<mark class="pii" data-entity=… data-risk=…>``; a masked finding prints
``<ENTITY_TYPE>`` and a reveal button read by static/js/pii_reveal.js (the
Content-Security-Policy allows no inline script). ``event|pii_masked:"url"`` tells
a template that a field holds a masked value (a link to it would be broken).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from apps.privacy.fields import field_value
from apps.privacy.pii.on_screen import MARKS_KEY, Mark

register = template.Library()
ELLIPSIS = "…"


def _marks(event: Any, field: str) -> list[Mark]:
    if not isinstance(event, dict):
        return []
    return list((event.get(MARKS_KEY) or {}).get(field, []))


@register.filter
def pii_masked(event: Any, field: str) -> bool:
    return any(mark.masked for mark in _marks(event, field))


def _mark_html(event_id: Any, field: str, mark: Mark, value: str) -> SafeString:
    label = f"{mark.entity_type} ({mark.risk} risk)"
    if not mark.masked:
        return format_html(
            '<mark class="pii pii-{}" data-entity="{}" title="{}">{}</mark>',
            mark.risk,
            mark.entity_type,
            label,
            value,
        )
    return format_html(
        '<mark class="pii pii-{} pii-masked" data-entity="{}" title="{}">'
        '<span class="pii-value">&lt;{}&gt;</span> <button type="button" class="pii-reveal" '
        'data-event="{}" data-field="{}" data-start="{}" data-end="{}">reveal</button></mark>',
        mark.risk,
        mark.entity_type,
        label,
        mark.entity_type,
        event_id,
        field,
        mark.start,
        mark.end,
    )


@register.simple_tag
def pii_field(event: Any, field: str, max_chars: int = 0) -> SafeString:
    """The field's text with its findings marked, cut after ``max_chars`` characters
    of the value (0: whole). A finding is never cut: it is printed whole or not at all."""
    text = field_value(event, field) if isinstance(event, dict) else None
    if not text:
        return mark_safe("")
    limit = max_chars if max_chars > 0 else len(text)
    parts: list[str] = []
    at = 0
    for mark in _marks(event, field):
        if mark.start >= limit:
            break
        parts.append(conditional_escape(text[at : mark.start]))
        parts.append(_mark_html(event.get("id"), field, mark, text[mark.start : mark.end]))
        at = mark.end
    if at < limit:
        parts.append(conditional_escape(text[at:limit]))
        at = limit
    if at < len(text):
        parts.append(ELLIPSIS)
    return mark_safe("".join(parts))  # every part is escaped above
