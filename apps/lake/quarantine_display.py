"""Quarantined items as the API and the import page show them.

A reason carries the parser's error context and an excerpt the item itself:
raw content, which may hold an e-mail address or a card number the masking
policy would hide everywhere else. Shown, both are cut and their PII partly
masked (apps/privacy's scanner and masks, through apps/lake/hooks.py); the
stored row stays as it was, for the owner's export.
"""

from __future__ import annotations

from collections.abc import Iterable

from apps.lake.hooks import pii_guard
from apps.lake.models import Quarantine

# Enough to see what went wrong; the whole item is in the owner's export.
REASON_CHARS = 300
EXCERPT_CHARS = 200


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# In place of a reason and its excerpt while the model that masks them is loading.
WITHHELD = "shown once the server has loaded its PII model, seconds after it started: reload"


def quarantine_for_display(
    items: Iterable[Quarantine], *, wait_for_model: bool = True
) -> list[Quarantine]:
    """``items`` with reason and excerpt cut and PII-masked, for showing only
    (never saved: the instances are changed in memory). With ``wait_for_model``
    off, while the process's preload is still loading the scanner, reasons and
    excerpts are withheld instead of masked (a page then does not wait for it;
    nothing is ever shown unmasked)."""
    shown = list(items)
    if shown and not wait_for_model and pii_guard().model_loading():
        for item in shown:
            item.reason, item.excerpt = WITHHELD, ""
        return shown
    texts = []
    for item in shown:
        texts += [_cut(item.reason, REASON_CHARS), _cut(item.excerpt, EXCERPT_CHARS)]
    if not texts:
        return shown
    masked = pii_guard().mask_texts(texts)
    for n, item in enumerate(shown):
        item.reason = masked[2 * n]
        item.excerpt = masked[2 * n + 1]
    return shown
