"""Reads for the feed page."""

from __future__ import annotations

from typing import Any

from apps.lake.models import Event
from apps.lake.normalize import iso_utc
from apps.privacy.redaction import redact_event_payloads
from apps.stream.models import IngestKey

# The page opens with the last few streamed events; the rest arrive live.
RECENT_ON_PAGE = 20
STREAM_SOURCES_EXCLUDED = ("takeout",)


def feed_recent_events(*, user_id: int) -> list[dict[str, Any]]:
    """The newest streamed events of ``user_id`` as the feed shows them (masked)."""
    events = (
        Event.objects.filter(user_id=user_id)
        .exclude(source__in=STREAM_SOURCES_EXCLUDED)
        .order_by("-occurred_at")
        .values("id", "kind", "source", "occurred_at", "title", "url")[:RECENT_ON_PAGE]
    )
    payloads = [
        {**event, "occurred_at": iso_utc(event["occurred_at"]), "text": "", "data": {}}
        for event in events
    ]
    return redact_event_payloads(user_id=user_id, payloads=payloads) if payloads else []


def ingest_key_of(*, user_id: int) -> IngestKey | None:
    return IngestKey.objects.filter(user_id=user_id).first()
