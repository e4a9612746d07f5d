"""Masking what an event says before it leaves the server (API responses, exports).

Every response or export that carries events' text passes the serialized events
through ``redact_event_payloads`` in one call per page (so findings are looked up
once per page, not once per event). The owner's policy per risk class decides
what is shown, masked, partly masked or hashed; a reveal is a separate, audited
request.
"""

from __future__ import annotations

from typing import Any


def redact_event_payloads(*, user_id: int, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return ``payloads`` (dicts with at least ``id`` and the event's text fields:
    ``title``, ``text``, ``url``, ``data``) with PII masked per ``user_id``'s policy.

    Until PII findings exist this returns the payloads unchanged.
    """
    return payloads
