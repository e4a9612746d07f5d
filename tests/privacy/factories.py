"""Events for PII tests, written through the ORM (the lake's hypertable accepts single rows)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from apps.lake.models import Event
from tests.acting import as_user

BASE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_event(
    user,
    *,
    title: str = "",
    text: str = "",
    url: str = "",
    data: dict[str, Any] | None = None,
    kind: str = "keep.note",
    minutes: int = 0,
) -> Event:
    """An event of ``user``'s, written as ``user``."""
    with as_user(user):
        return Event.objects.create(
            user=user,
            source="takeout",
            kind=kind,
            occurred_at=BASE + timedelta(minutes=minutes),
            title=title,
            text=text,
            url=url,
            data=data or {},
            content_hash=os.urandom(16),
        )
