"""The timeline's days carry one summary row of their health measurements (#16):
steps, distance and move minutes of the preferred streams, in the user's days, read
from the daily series of the measurements (rollup or continuous aggregate), which a
change of zone refreshes."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from apps.analytics.aggregates import (
    METRICS_DAILY,
    aggregates_refresh,
    metric_rollup,
    series_is_continuous,
)
from apps.core.db.context import user_context
from apps.core.models import UserSettings
from apps.lake.metrics import PREFERRED_STREAMS, MetricRow, metric_series, metrics_write
from apps.lake.takeout.records import EventRecord

from .conftest import store_events

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
MERGED = "derived_com.google.step_count.delta_com.google.android.gms_merge_step_deltas"


def row(metric: str, stream: str, start: dt.datetime, value: float, unit: str) -> MetricRow:
    return MetricRow(metric, start, start + dt.timedelta(minutes=10), value, unit, stream)


def summaries(page: str) -> dict[str, str]:
    found = re.findall(r'data-day-summary="([\d-]+)">.*?<span class="title">([^<]*)</span>', page)
    return dict(found)


def test_one_summary_row_per_day_from_the_preferred_streams(client, owner):
    steps, distance, minutes = (
        PREFERRED_STREAMS[m][0] for m in ("steps", "distance", "active_minutes")
    )
    may3 = dt.datetime(2024, 5, 3, 0, 10, tzinfo=IST)  # 18:40 UTC on the 2nd
    with user_context(owner.pk):
        UserSettings.objects.create(user=owner, time_zone="Asia/Kolkata", time_zone_chosen=True)
        metrics_write(
            user_id=owner.pk,
            rows=[
                row("steps", steps, may3, 1952, "count"),
                row("steps", steps, may3 + dt.timedelta(hours=12), 2000, "count"),
                row("steps", MERGED, may3, 1952, "count"),  # the same walk again: not added
                row("distance", distance, may3, 2712.0, "m"),
                row("active_minutes", minutes, may3, 51, "min"),
                row("steps", steps, dt.datetime(2024, 5, 1, 9, 0, tzinfo=IST), 800, "count"),
            ],
        )
        aggregates_refresh(user_id=owner.pk)
    store_events(
        owner,
        EventRecord(
            kind="chrome.visit",
            occurred_at=dt.datetime(2024, 5, 3, 10, 0, tzinfo=IST),
            title="Tram 28",
            url="https://example.org/tram",
        ),
    )
    client.force_login(owner)

    page = client.get("/timeline/").content.decode()

    assert summaries(page) == {
        "2024-05-03": "3,952 steps · 2.7 km · 51 move min",
        "2024-05-01": "800 steps",  # a day of measurements only
    }
    assert page.count('class="day"') == 2
    assert "Friday 3 May 2024" in page and "Wednesday 1 May 2024" in page
    assert "(untitled)" not in page
    assert page.count("data-event=") == 1

    # Filtered, the timeline shows what matches; the days of measurements only go.
    filtered = client.get("/timeline/?kind=chrome.visit").content.decode()
    assert summaries(filtered) == {"2024-05-03": "3,952 steps · 2.7 km · 51 move min"}


def test_a_user_with_measurements_only_has_a_timeline(client, owner):
    stream = PREFERRED_STREAMS["steps"][0]
    with user_context(owner.pk):
        metrics_write(
            user_id=owner.pk,
            rows=[row("steps", stream, dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC), 12, "count")],
        )
        aggregates_refresh(user_id=owner.pk)
    client.force_login(owner)
    page = client.get("/timeline/").content.decode()
    assert 'id="empty-timeline"' not in page
    assert summaries(page) == {"2024-05-01": "12 steps"}


def test_the_series_follow_the_users_zone_and_its_change(
    client, owner, eager_celery, django_capture_on_commit_callbacks
):
    if series_is_continuous(METRICS_DAILY):
        pytest.skip("a continuous aggregate cuts days at UTC midnight (README)")
    stream = PREFERRED_STREAMS["steps"][0]
    walk = dt.datetime(2024, 5, 2, 18, 40, tzinfo=dt.UTC)  # 00:10 on the 3rd in Kolkata
    with user_context(owner.pk):
        UserSettings.objects.create(user=owner, time_zone="UTC", time_zone_chosen=True)
        metrics_write(
            user_id=owner.pk,
            rows=[
                row("steps", stream, walk, 500, "count"),
                row("steps", stream, walk - dt.timedelta(hours=2), 70, "count"),
            ],
        )
        aggregates_refresh(user_id=owner.pk)
    client.force_login(owner)
    assert summaries(client.get("/timeline/").content.decode()) == {"2024-05-02": "570 steps"}

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/settings/", {"time_zone": "Asia/Kolkata"}).status_code == 302

    # No refresh by the test: the change of zone queued it.
    assert summaries(client.get("/timeline/").content.decode()) == {
        "2024-05-03": "500 steps",
        "2024-05-02": "70 steps",
    }
    with user_context(owner.pk):
        # The hourly series too, in half-hour-offset hours, as the hypertable says.
        hours = metric_rollup(user_id=owner.pk, metric="steps", stream=stream, bucket="hour")
        direct = metric_series(user_id=owner.pk, metric="steps", bucket="hour")
        assert [(r["bucket"], r["value"]) for r in hours] == [
            (dt.datetime(2024, 5, 2, 22, 0, tzinfo=IST), 70.0),
            (dt.datetime(2024, 5, 3, 0, 0, tzinfo=IST), 500.0),
        ]
        assert [(r["bucket"], r["value"]) for r in direct] == [
            (r["bucket"], r["value"]) for r in hours
        ]
