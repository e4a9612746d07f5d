"""What the lake asks of the layer above it before it stores or shows rows.

The PII guard sits between normalize and store (DESIGN.md), but finding and
masking PII is apps/privacy's work, and the lake must not import privacy:
the lake offers this slot and privacy fills it in its AppConfig.ready(). An
empty slot is a misconfiguration, never a reason to store or show unscanned
text: it raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True, slots=True)
class PiiGuard:
    # Scan events being stored now, in the storing transaction (dicts with id,
    # occurred_at, kind, title, text, url, data): the ids something was found in.
    scan_new_events: Callable[..., set[int]]
    # Event payloads (id, kind, title, text, url, data, ...) masked per the
    # owner's privacy policy, for showing (the live feed).
    mask_event_payloads: Callable[..., list[dict[str, Any]]]
    # Free texts (quarantine reasons and excerpts) with their PII partly masked.
    mask_texts: Callable[[list[str]], list[str]]
    # True while this process is still loading the PII model: a page that can do
    # without masked texts need not wait for it (tens of seconds on a busy machine).
    model_loading: Callable[[], bool]


_guard: PiiGuard | None = None


def pii_guard_install(guard: PiiGuard) -> None:
    """Fill the slot (apps/privacy/apps.py); installing again replaces it."""
    global _guard
    _guard = guard


def pii_guard() -> PiiGuard:
    if _guard is None:
        raise ImproperlyConfigured("no PII guard installed: apps.privacy must be in INSTALLED_APPS")
    return _guard
