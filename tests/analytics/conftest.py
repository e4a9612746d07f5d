"""Fixtures for analytics: the sample Takeout imported for a user, events written directly."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.analytics.aggregates import aggregates_refresh
from apps.lake.pipeline import records_store
from apps.lake.sample_takeout import build_sample_takeout
from apps.lake.services import takeout_import_prepare, takeout_import_run
from apps.lake.takeout.records import EventRecord, LocationRecord

SAMPLE_POINTS = 300
SAMPLE_DAYS = 5


def import_sample(user, tmp_path, *, points: int = SAMPLE_POINTS, days: int = SAMPLE_DAYS):
    archive = build_sample_takeout(tmp_path / f"takeout-{user.pk}.zip", points=points, days=days)
    run = takeout_import_run(import_id=takeout_import_prepare(user=user, paths=[archive]).pk)
    assert run.status == "done", run.error
    return run


@pytest.fixture
def sample_owner(owner, tmp_path):
    """``owner`` with the sample Takeout imported and the daily series refreshed."""
    import_sample(owner, tmp_path)
    aggregates_refresh(user_id=owner.pk)
    return owner


def store_events(user, *records: EventRecord, source: str = "test") -> list[int]:
    return records_store(user_id=user.pk, source=source, records=list(records)).event_ids


def store_fixes(user, fixes: list[tuple[dt.datetime, float, float]]) -> None:
    records_store(
        user_id=user.pk,
        source="test",
        records=[
            LocationRecord(recorded_at=t, latitude=lat, longitude=lon) for t, lat, lon in fixes
        ],
    )


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=dt.UTC)
