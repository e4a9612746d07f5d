"""Quarantined items as the API and the import page show them.

A reason carries the parser's error context and an excerpt the item itself:
raw content, which may hold an e-mail address or a card number the masking
policy would hide everywhere else. Shown, both are cut and their PII partly
masked (apps/privacy's scanner and masks); the stored row stays as it was, for
the owner's export.
"""

from __future__ import annotations

from collections.abc import Iterable

from apps.lake.models import Quarantine

# Enough to see what went wrong; the whole item is in the owner's export.
REASON_CHARS = 300
EXCERPT_CHARS = 200


def _masked(text: str, findings) -> str:
    from apps.privacy.redaction import partial_mask

    for finding in sorted(findings, key=lambda found: found.start, reverse=True):
        value = text[finding.start : finding.end]
        text = (
            text[: finding.start] + partial_mask(finding.entity_type, value) + text[finding.end :]
        )
    return text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quarantine_for_display(items: Iterable[Quarantine]) -> list[Quarantine]:
    """``items`` with reason and excerpt cut and PII-masked, for showing only
    (never saved: the instances are changed in memory)."""
    from apps.privacy.pii.scanner import pii_scanner

    shown = list(items)
    texts = []
    for item in shown:
        texts += [_cut(item.reason, REASON_CHARS), _cut(item.excerpt, EXCERPT_CHARS)]
    if not texts:
        return shown
    findings = pii_scanner().scan_texts(texts)
    for n, item in enumerate(shown):
        item.reason = _masked(texts[2 * n], findings[2 * n])
        item.excerpt = _masked(texts[2 * n + 1], findings[2 * n + 1])
    return shown
