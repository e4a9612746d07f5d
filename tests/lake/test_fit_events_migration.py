"""Migration lake 0005: Fit measurements stored as events (before #16) move into
lake_healthmetric, every event accounted for.

The events are written as imports before #16 wrote them (the parsers' EventRecords
of that time, through the lake's writer): All Data points with their value and
stream under data, daily and interval CSV rows as header -> cell, the Google
connector's heart rate in the REST API's shape.
"""

from __future__ import annotations

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from apps.analytics.aggregates import aggregates_refresh, events_per_day
from apps.core.db.context import user_context
from apps.core.models import UserSettings
from apps.lake.metric_models import HealthMetric
from apps.lake.models import Event
from apps.lake.takeout.records import EventRecord
from apps.lake.writer import BatchWriter

pytestmark = pytest.mark.django_db

migration = importlib.import_module("apps.lake.migrations.0005_fit_metric_events_to_healthmetric")
rollup_migration = importlib.import_module(
    "apps.analytics.migrations.0008_events_daily_after_fit_move"
)

STEPS = "derived_com.google.step_count.delta_com.google.android.gms_estimated_steps"
MERGED = "derived_com.google.step_count.delta_com.google.android.gms_merge_step_deltas"
T0 = dt.datetime(2021, 6, 9, 4, 0, tzinfo=dt.UTC)
NS = 10**9


def old_point(kind: str, data_type: str, values: list, start: dt.datetime, stream: str, **extra):
    """fit_all_data.data_point_record as it was: the point, its value(s) and its stream."""
    end = start + dt.timedelta(minutes=1)
    point = {
        "dataTypeName": data_type,
        "startTimeNanos": int(start.timestamp()) * NS,
        "endTimeNanos": int(end.timestamp()) * NS,
        "fitValue": [{"value": v} for v in values],
        "modifiedTimeMillis": 1_623_000_000_000,
        **extra,
    }
    plain = [next(iter(v.values())) for v in values]
    return EventRecord(
        kind=kind,
        occurred_at=start,
        ended_at=end,
        title=data_type,
        text=str(plain[0] if len(plain) == 1 else plain),
        data={**point, "value": plain[0] if len(plain) == 1 else plain, "dataSource": stream},
        copy_fields=("modifiedTimeMillis",),
    )


def write(user_id: int, source: str, records: list) -> None:
    with BatchWriter(user_id=user_id, source=source) as writer:
        for record in records:
            writer.add(record)
        writer.flush()


def test_every_fit_measurement_event_is_moved_or_kept_and_counted(owner, outsider):
    with user_context(owner.pk):
        UserSettings.objects.create(user=owner, time_zone="Asia/Kolkata", time_zone_chosen=True)
        takeout = [
            *(
                old_point(
                    "fit.steps",
                    "com.google.step_count.delta",
                    [{"intVal": 100 + i}],
                    T0 + dt.timedelta(minutes=i),
                    STEPS,
                )
                for i in range(5)
            ),
            old_point("fit.steps", "com.google.step_count.delta", [{"intVal": 100}], T0, MERGED),
            old_point(
                "fit.distance", "com.google.distance.delta", [{"fpVal": 71.5}], T0, "derived_d"
            ),
            old_point("fit.weight", "com.google.weight", [{"fpVal": 77.7}], T0, "derived_w"),
            old_point(
                "fit.data_point",
                "com.google.heart_rate.summary",
                [{"fpVal": 80.0}, {"fpVal": 120.0}, {"fpVal": 55.0}],
                T0,
                "derived_hs",
            ),
            # A food: its values are no numbers, it stays an event.
            old_point(
                "fit.data_point",
                "com.google.nutrition",
                [{"mapVal": [{"key": "fat", "value": {"fpVal": 1.0}}]}],
                T0,
                "derived_n",
            ),
            EventRecord(
                kind="fit.daily_metrics",
                occurred_at=dt.datetime(2021, 6, 9, tzinfo=dt.UTC),
                title="2021-06-09",
                data={"Date": "2021-06-09", "Step count": "5321", "Distance (m)": "4000.5"},
            ),
            EventRecord(
                kind="fit.interval",
                occurred_at=dt.datetime(2021, 6, 9, 18, 30, tzinfo=dt.UTC),
                ended_at=dt.datetime(2021, 6, 9, 18, 45, tzinfo=dt.UTC),
                data={
                    "Start time": "00:00:00.000+05:30",
                    "End time": "00:15:00.000+05:30",
                    "Step count": "312",
                    "Calories (kcal)": "",
                    "date": "2021-06-10",
                },
            ),
            # A CSV cell that is no number: the row stays an event.
            EventRecord(
                kind="fit.interval",
                occurred_at=dt.datetime(2021, 6, 9, 18, 45, tzinfo=dt.UTC),
                data={"Start time": "00:15:00.000+05:30", "Step count": "n/a", "date": "x"},
            ),
            EventRecord(
                kind="fit.session",
                occurred_at=T0,
                ended_at=T0 + dt.timedelta(minutes=30),
                title="running",
                data={
                    "fitnessActivity": "running",
                    "startTime": "2021-06-09T04:00:00Z",
                    "aggregate": [{"metricName": "com.google.step_count.delta", "intValue": 1550}],
                },
            ),
            EventRecord(kind="chrome.visit", occurred_at=T0, title="not Fit", url="https://x.org"),
        ]
        write(owner.pk, "takeout", takeout)
        # The same point of the same stream again, from an overlapping export that
        # tells its origin differently: another event then, the same measurement.
        write(
            owner.pk,
            "takeout",
            [
                old_point(
                    "fit.steps",
                    "com.google.step_count.delta",
                    [{"intVal": 100}],
                    T0,
                    STEPS,
                    originDataSourceId="raw:com.google.step_count.cumulative:Google:Pixel:2",
                )
            ],
        )
        connector_point = {
            "startTimeNanos": str(int(T0.timestamp()) * NS),
            "endTimeNanos": str(int(T0.timestamp()) * NS),
            "dataTypeName": "com.google.heart_rate.bpm",
            "value": [{"fpVal": 64.0, "mapVal": []}],
            "modifiedTimeMillis": "1623000000000",
        }
        write(
            owner.pk,
            "google",
            [
                EventRecord(
                    kind="fit.heart_rate",
                    occurred_at=T0,
                    title="64 bpm",
                    data=connector_point,
                    copy_fields=("modifiedTimeMillis",),
                )
            ],
        )
        aggregates_refresh(user_id=owner.pk)
        before = Event.objects.filter(kind__startswith="fit.").count()
        assert before == 16
        assert ("fit.steps", 7) in {
            (r["key"], r["events"]) for r in events_per_day(user_id=owner.pk)
        }
    with user_context(outsider.pk):
        write(
            outsider.pk,
            "takeout",
            [old_point("fit.steps", "com.google.step_count.delta", [{"intVal": 9}], T0, STEPS)],
        )

    report = migration.move_fit_events(connection)
    rollup_migration.refresh_after_fit_move(connection)

    # Seen: owner 15 measurement events (16 minus the session) + outsider 1.
    assert report.events == 16
    assert (report.moved, report.kept) == (14, 2)
    assert report.sessions == 1
    # 5 + 1 + 1 + 1 + 3 (summary) steps/distance/weight/heart rate, 2 daily, 1 interval,
    # 1 connector heart rate, 1 session aggregate, the duplicate point, the outsider's.
    assert report.measurements == 5 + 1 + 1 + 1 + 3 + 2 + 1 + 1 + 1 + 1 + 1
    assert (report.new, report.already_stored) == (report.measurements - 1, 1)

    with user_context(owner.pk):
        assert HealthMetric.objects.count() == report.new - 1  # without the outsider's
        left = sorted(Event.objects.filter(kind__startswith="fit.").values_list("kind", "title"))
        assert left == [
            ("fit.data_point", "com.google.nutrition"),
            ("fit.interval", ""),
            ("fit.session", "running"),
        ]
        assert Event.objects.filter(kind="chrome.visit").count() == 1
        steps = HealthMetric.objects.filter(metric="steps")
        assert sorted(steps.filter(stream=STEPS).values_list("value", flat=True)) == [
            100.0,
            101.0,
            102.0,
            103.0,
            104.0,
        ]
        assert steps.filter(stream=MERGED).count() == 1
        assert steps.get(stream="fit.sessions").value == 1550.0
        interval = steps.get(stream="fit.intervals")
        assert (interval.value, interval.end - interval.start) == (312.0, dt.timedelta(minutes=15))
        daily = steps.get(stream="fit.daily_metrics")
        kolkata = ZoneInfo("Asia/Kolkata")
        assert daily.start == dt.datetime(2021, 6, 9, tzinfo=kolkata)
        assert daily.end == dt.datetime(2021, 6, 10, tzinfo=kolkata)
        assert HealthMetric.objects.get(metric="distance", stream="fit.daily_metrics").value == (
            4000.5
        )
        heart = HealthMetric.objects.get(metric="heart_rate", stream=migration.CONNECTOR_HEART_RATE)
        assert (heart.value, heart.unit, heart.start) == (64.0, "bpm", T0)
        summary = HealthMetric.objects.filter(stream="derived_hs").values_list("metric", "value")
        assert sorted(summary) == [
            ("heart_rate", 80.0),
            ("heart_rate_max", 120.0),
            ("heart_rate_min", 55.0),
        ]
        # The rollup no longer counts the moved events.
        kinds = {r["key"] for r in events_per_day(user_id=owner.pk)}
        assert "fit.steps" not in kinds and "chrome.visit" in kinds
    with user_context(outsider.pk):
        assert list(HealthMetric.objects.values_list("value", flat=True)) == [9.0]

    # Run again: nothing left to move, nothing new.
    again = migration.move_fit_events(connection)
    assert (again.events, again.moved, again.kept, again.new) == (2, 0, 2, 0)
