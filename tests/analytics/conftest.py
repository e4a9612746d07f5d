"""Fixtures for analytics: the sample Takeout imported for a user, events written directly."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.analytics.aggregates import aggregates_refresh
from apps.lake.takeout.records import EventRecord, LocationRecord
from tests.acting import as_user, store_records

# The sample Takeout of these tests (import_takeout(user, **SAMPLE)): small, and a few days.
SAMPLE = {"points": 300, "days": 5}


@pytest.fixture
def sample_owner(owner, import_takeout):
    """``owner`` with the sample Takeout imported and the daily series refreshed."""
    import_takeout(owner, **SAMPLE)
    with as_user(owner):
        aggregates_refresh(user_id=owner.pk)
    return owner


def store_events(user, *records: EventRecord, source: str = "test") -> list[int]:
    return store_records(user, records, source=source).event_ids


def store_fixes(user, fixes: list[tuple[dt.datetime, float, float]]) -> None:
    store_records(
        user, [LocationRecord(recorded_at=t, latitude=lat, longitude=lon) for t, lat, lon in fixes]
    )


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=dt.UTC)
