"""Health measurements: binary COPY, deduplicated by key, one preferred stream per metric,
daily and hourly buckets in the user's time zone, isolated per user."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import ProgrammingError

from apps.core.db.context import user_context
from apps.core.models import UserSettings
from apps.lake.metric_models import HealthMetric
from apps.lake.metrics import (
    PREFERRED_STREAMS,
    MetricError,
    MetricRow,
    metric_series,
    metrics_write,
    preferred_stream,
)

pytestmark = pytest.mark.django_db

IST = ZoneInfo("Asia/Kolkata")
ESTIMATED = PREFERRED_STREAMS["steps"][0]
MERGED = "derived:com.google.step_count.delta:com.google.android.gms:merge_step_deltas"
DEVICE = "raw:com.google.step_count.delta:com.example.watch:steps"


def steps(stream: str, start: dt.datetime, value: float, minutes: int = 10) -> MetricRow:
    return MetricRow("steps", start, start + dt.timedelta(minutes=minutes), value, "count", stream)


def test_rows_are_stored_once_whatever_the_number_of_imports(owner):
    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    rows = [steps(ESTIMATED, t, 100), steps(ESTIMATED, t + dt.timedelta(hours=1), 50)]
    with user_context(owner.pk):
        assert metrics_write(user_id=owner.pk, rows=rows + rows[:1]) == 2  # a duplicate in-batch
        assert metrics_write(user_id=owner.pk, rows=rows) == 0  # the same export again
        assert metrics_write(user_id=owner.pk, rows=[steps(MERGED, t, 100)]) == 1  # other stream
        stored = list(
            HealthMetric.objects.order_by("start", "stream").values_list("stream", "value")
        )
    assert stored == [(ESTIMATED, 100.0), (MERGED, 100.0), (ESTIMATED, 50.0)]


def test_a_bad_row_refuses_the_batch_and_stores_nothing(owner):
    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    bad = MetricRow("steps", t, t - dt.timedelta(minutes=1), 5, "count", ESTIMATED)
    with user_context(owner.pk):
        with pytest.raises(MetricError, match="ends before it starts"):
            metrics_write(user_id=owner.pk, rows=[steps(ESTIMATED, t, 1), bad])
        with pytest.raises(MetricError, match="not a number"):
            metrics_write(user_id=owner.pk, rows=[steps(ESTIMATED, t, float("nan"))])
        assert not HealthMetric.objects.exists()


def test_totals_come_from_the_preferred_stream_never_a_sum_of_overlapping_ones(owner):
    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    with user_context(owner.pk):
        # Three streams of the same walk: 120 steps, told three times.
        for stream in (DEVICE, MERGED, ESTIMATED):
            metrics_write(
                user_id=owner.pk,
                rows=[steps(stream, t, 70), steps(stream, t + dt.timedelta(minutes=10), 50)],
            )
        assert preferred_stream(user_id=owner.pk, metric="steps") == ESTIMATED
        assert [r["value"] for r in metric_series(user_id=owner.pk, metric="steps")] == [120.0]
        # The others stay stored and can be read by name.
        assert [
            r["value"] for r in metric_series(user_id=owner.pk, metric="steps", stream=DEVICE)
        ] == [120.0]
        assert HealthMetric.objects.filter(metric="steps").count() == 6


def test_without_a_preferred_stream_the_fullest_one_is_used_alone(owner):
    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    with user_context(owner.pk):
        metrics_write(
            user_id=owner.pk,
            rows=[steps(DEVICE, t, 10), steps(DEVICE, t + dt.timedelta(hours=1), 20)],
        )
        metrics_write(user_id=owner.pk, rows=[steps(MERGED, t, 30)])
        assert preferred_stream(user_id=owner.pk, metric="steps") == DEVICE
        assert [r["value"] for r in metric_series(user_id=owner.pk, metric="steps")] == [30.0]


def test_days_and_hours_are_the_users_and_levels_are_averaged(owner):
    with user_context(owner.pk):
        UserSettings.objects.create(user=owner, time_zone="Asia/Kolkata", time_zone_chosen=True)
        late = dt.datetime(2024, 5, 2, 23, 50, tzinfo=IST)
        early = dt.datetime(2024, 5, 3, 0, 10, tzinfo=IST)
        metrics_write(
            user_id=owner.pk, rows=[steps(ESTIMATED, late, 7, 5), steps(ESTIMATED, early, 9, 5)]
        )
        days = metric_series(user_id=owner.pk, metric="steps")
        assert [(r["bucket"], r["value"]) for r in days] == [
            (dt.date(2024, 5, 2), 7.0),
            (dt.date(2024, 5, 3), 9.0),
        ]
        only_3rd = metric_series(
            user_id=owner.pk, metric="steps", start=dt.date(2024, 5, 3), end=dt.date(2024, 5, 3)
        )
        assert [r["value"] for r in only_3rd] == [9.0]
        hours = metric_series(user_id=owner.pk, metric="steps", bucket="hour")
        assert [r["bucket"] for r in hours] == [late.replace(minute=0), early.replace(minute=0)]
        bpm = "derived:com.google.heart_rate.bpm:com.google.android.gms:merge_heart_rate_bpm"
        metrics_write(
            user_id=owner.pk,
            rows=[
                MetricRow(
                    "heart_rate",
                    early + dt.timedelta(minutes=m),
                    early + dt.timedelta(minutes=m),
                    v,
                    "bpm",
                    bpm,
                )
                for m, v in ((0, 60), (1, 90), (2, 75))
            ],
        )
        (day,) = metric_series(user_id=owner.pk, metric="heart_rate")
        assert (day["min"], day["value"], day["max"]) == (60.0, 75.0, 90.0)
        with pytest.raises(MetricError):
            metric_series(user_id=owner.pk, metric="steps", bucket="week")


def test_one_users_measurements_are_invisible_to_another(owner, outsider):
    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    with user_context(owner.pk):
        metrics_write(user_id=owner.pk, rows=[steps(ESTIMATED, t, 100)])
    with user_context(outsider.pk):
        assert metric_series(user_id=owner.pk, metric="steps") == []
        assert not HealthMetric.objects.exists()
        with pytest.raises(ProgrammingError, match="row-level security"):
            metrics_write(user_id=owner.pk, rows=[steps(ESTIMATED, t, 1)])


def test_the_lake_writer_stores_measurements_and_quarantines_bad_ones(owner):
    from apps.lake.models import Quarantine
    from apps.lake.writer import BatchWriter

    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    bad = MetricRow("steps", t, t, float("inf"), "count", ESTIMATED)
    with user_context(owner.pk):
        with BatchWriter(user_id=owner.pk, source="takeout") as writer:
            for record in (steps(ESTIMATED, t, 5), steps(ESTIMATED, t, 5), bad):
                writer.add(record)
            result = writer.flush()
        assert (result.written, result.duplicate, result.quarantined) == (1, 1, 1)
        assert list(HealthMetric.objects.values_list("value", flat=True)) == [5.0]
        assert "not a number" in Quarantine.objects.get().reason


def test_the_metrics_api_answers_buckets_of_the_users_days(owner, outsider, client):
    with user_context(owner.pk):
        UserSettings.objects.create(user=owner, time_zone="Asia/Kolkata", time_zone_chosen=True)
        late = dt.datetime(2024, 5, 2, 23, 50, tzinfo=IST)
        metrics_write(
            user_id=owner.pk,
            rows=[
                steps(ESTIMATED, late, 7, 5),
                steps(ESTIMATED, late + dt.timedelta(minutes=20), 9, 5),
            ]
            + [steps(MERGED, late, 100, 5)],
        )
    client.force_login(owner)
    body = client.get("/api/metrics/?metric=steps&start=2024-05-03&end=2024-05-03").json()
    assert body["stream"] == ESTIMATED
    assert [(r["bucket"], r["value"]) for r in body["results"]] == [("2024-05-03", 9.0)]
    hours = client.get("/api/metrics/?metric=steps&bucket=hour").json()["results"]
    assert [r["bucket"] for r in hours] == [
        "2024-05-02T23:00:00+05:30",
        "2024-05-03T00:00:00+05:30",
    ]
    for query in (
        "metric=",
        "metric=steps&bucket=week",
        "metric=steps&start=2024-13-01",
        "metric=steps&start=2024-05-03&end=2024-05-01",
        "metric=DROP%20TABLE",
    ):
        response = client.get(f"/api/metrics/?{query}")
        assert response.status_code == 400, query
        assert response.json()["detail"]
    client.force_login(outsider)
    assert client.get("/api/metrics/?metric=steps").json()["results"] == []


def test_the_health_page_charts_the_preferred_stream_of_each_metric(owner, client):
    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    bpm = "derived:com.google.heart_rate.bpm:com.google.android.gms:merge_heart_rate_bpm"
    with user_context(owner.pk):
        for stream in (DEVICE, MERGED, ESTIMATED):
            metrics_write(user_id=owner.pk, rows=[steps(stream, t, 3952)])
        metrics_write(
            user_id=owner.pk,
            rows=[
                MetricRow(
                    "heart_rate",
                    t + dt.timedelta(minutes=m),
                    t + dt.timedelta(minutes=m),
                    v,
                    "bpm",
                    bpm,
                )
                for m, v in ((0, 58), (1, 120))
            ],
        )
    client.force_login(owner)
    response = client.get("/health/")
    assert response.status_code == 200
    charts = response.context["charts"]
    assert [c["metric"] for c in charts] == ["steps", "heart_rate"]
    assert charts[0]["values"] == [3952.0]  # not 3 x 3952
    assert (charts[1]["min"], charts[1]["values"], charts[1]["max"]) == ([58.0], [89.0], [120.0])
    page = response.content.decode()
    assert 'id="chart-steps"' in page and "chart.umd.min.js" in page


def test_the_health_page_without_measurements_says_how_to_get_them(owner, client):
    client.force_login(owner)
    assert 'id="health-empty"' in client.get("/health/").content.decode()


def test_the_writers_bulk_copy_is_refused_for_another_users_rows(owner, outsider):
    from apps.core.db.roles import BulkRoleRefused
    from apps.lake.writer import BatchWriter

    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    with user_context(outsider.pk):
        with pytest.raises(BulkRoleRefused):
            with BatchWriter(user_id=owner.pk, source="takeout") as writer:
                writer.add(steps(ESTIMATED, t, 5))
                writer.flush()
    with user_context(owner.pk):
        assert not HealthMetric.objects.exists()
        # First batch straight in, the second (the same rows again) through staging.
        for expected in ((2, 0), (0, 2)):
            with BatchWriter(user_id=owner.pk, source="takeout") as writer:
                writer.add(steps(ESTIMATED, t, 5))
                writer.add(steps(ESTIMATED, t + dt.timedelta(hours=1), 6))
                result = writer.flush()
            assert (result.written, result.duplicate) == expected
        assert HealthMetric.objects.count() == 2


def test_the_measurements_api_pages_the_users_own_measurements(owner, outsider, client):
    t = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)
    rows = [
        MetricRow(
            "steps",
            t + dt.timedelta(minutes=i),
            t + dt.timedelta(minutes=i + 1),
            i,
            "count",
            ESTIMATED,
            text=f"{i}.0",
        )
        for i in range(5)
    ]
    with user_context(owner.pk):
        metrics_write(user_id=owner.pk, rows=rows)
    client.force_login(owner)
    texts, query = [], {"metric": "steps", "limit": 2}
    while True:
        body = client.get("/api/metrics/measurements/", query).json()
        assert body["stream"] == ESTIMATED
        texts += [(row["text"], row["value"], row["start"]) for row in body["results"]]
        if not body["next_cursor"]:
            break
        query["cursor"] = body["next_cursor"]
    assert texts == [
        (f"{i}.0", float(i), (t + dt.timedelta(minutes=i)).isoformat()) for i in range(5)
    ]
    for bad in ({"metric": "steps", "limit": 0}, {"metric": "steps", "cursor": "nope"}, {}):
        response = client.get("/api/metrics/measurements/", bad)
        assert response.status_code == 400, bad
        assert response.json()["detail"]
    client.force_login(outsider)
    assert client.get("/api/metrics/measurements/", {"metric": "steps"}).json()["results"] == []
