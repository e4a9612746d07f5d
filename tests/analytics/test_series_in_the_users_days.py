"""The daily series add up over the user's own days, for a +05:30 user and again after
a change to +05:45, on both materializations of apps/analytics/aggregates.py:

- the rollup tables (the Apache build's, this server's): one row per day of the
  owner's zone, re-cut after a change of zone by the refresh it queues;
- what a continuous aggregate holds on the community build (quarter hours in UTC,
  its definition ``continuous_select``): the readers add them up into the user's
  days, and a change of zone needs no refresh. This server refuses continuous
  aggregates (Apache licence), so the test stores that definition's rows in the
  series' relations and reads them with the same readers.

The truths are computed from the raw rows, apart from the series: counts and
minutes in Python over the user's local days, the day's line of fixes in SQL, the
measurements in Python too.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from apps.analytics import aggregates
from apps.analytics.aggregates import SERIES, aggregates_refresh
from apps.core.db.context import user_context
from apps.core.models import UserSettings
from apps.core.timezones import set_zone
from apps.lake.metrics import metrics_write
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord, LocationRecord, MetricRecord

pytestmark = pytest.mark.django_db

KOLKATA, KATHMANDU = "Asia/Kolkata", "Asia/Kathmandu"  # +05:30, +05:45
STEPS = "derived:com.google.step_count.delta:com.google.android.gms:estimated_steps"
HEART = "derived:com.google.heart_rate.bpm:com.google.android.gms:merge_heart_rate_bpm"


def utc(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=dt.UTC)


# Around the two zones' midnights on 2-3 May (18:30 and 18:15 UTC): 18:10 is the 2nd in
# both, 18:20 the 2nd in Kolkata and the 3rd in Kathmandu, 18:40 the 3rd in both.
MOMENTS = [utc(2, 9, 0), utc(2, 18, 10), utc(2, 18, 20), utc(2, 18, 40), utc(3, 18, 29)]
# A walk every 5 minutes across both midnights, and one more the next evening.
FIXES = [
    (utc(2, 17, 50) + dt.timedelta(minutes=5 * n), 12.9700 + 0.0010 * n, 77.5900 + 0.0007 * n)
    for n in range(16)
] + [(utc(3, 12, 0), 12.99, 77.61), (utc(3, 12, 20), 12.995, 77.615)]

# Every 5 minutes from 18:00 UTC on the 2nd, for two hours: steps (summed) and heart
# rate (a mean), each in one stream.
_STARTS = [utc(2, 18, 0) + dt.timedelta(minutes=5 * n) for n in range(24)]
MEASUREMENTS = {
    "steps": [(start, 10.0 + n) for n, start in enumerate(_STARTS)],
    "heart_rate": [(start, 60.0 + n % 7) for n, start in enumerate(_STARTS)],
}


def _store(user) -> None:
    records: list = []
    for n, moment in enumerate(MOMENTS):
        records.append(EventRecord(kind="chrome.visit", occurred_at=moment, title=f"page {n}"))
        records.append(
            EventRecord(
                kind="spotify.play",
                occurred_at=moment,
                title=f"track {n}",
                data={"ms_played": 60_000 * (n + 1)},
            )
        )
    records += [
        LocationRecord(recorded_at=at, latitude=lat, longitude=lon) for at, lat, lon in FIXES
    ]
    measurements = [
        MetricRecord(metric, start, start + dt.timedelta(minutes=5), value, unit, stream)
        for metric, unit, stream in (("steps", "count", STEPS), ("heart_rate", "bpm", HEART))
        for start, value in MEASUREMENTS[metric]
    ]
    with user_context(user.pk):
        records_store(user_id=user.pk, source="test", records=records)
        metrics_write(user_id=user.pk, rows=measurements)


def _as_continuous_aggregates(user) -> None:
    """What the community build's continuous aggregates hold for the user."""
    with user_context(user.pk), connection.cursor() as cursor:
        for series in SERIES:
            cursor.execute(f"DELETE FROM {series.name} WHERE user_id = %s", [user.pk])
            cursor.execute(
                f"INSERT INTO {series.name} SELECT * FROM ({series.continuous_select()}) q "
                "WHERE q.user_id = %s",
                [user.pk],
            )


def _truths(user, zone_name: str) -> dict:
    zone = ZoneInfo(zone_name)
    events: dict = defaultdict(int)
    minutes: dict = defaultdict(float)
    for n, moment in enumerate(MOMENTS):
        day = moment.astimezone(zone).date()
        events[(day, "chrome.visit")] += 1
        events[(day, "spotify.play")] += 1
        minutes[day] += n + 1
    with user_context(user.pk), connection.cursor() as cursor:
        cursor.execute(
            "SELECT (recorded_at AT TIME ZONE %s)::date AS day, count(*), "
            "round((ST_Length(ST_MakeLine(point::geometry ORDER BY recorded_at)::geography) "
            "/ 1000)::numeric, 2)::float FROM lake_locationpoint WHERE user_id = %s "
            "GROUP BY 1 ORDER BY 1",
            [zone_name, user.pk],
        )
        distance = [{"day": d, "km": km, "points": n} for d, n, km in cursor.fetchall()]
    metrics = {}
    for metric, summed in (("steps", True), ("heart_rate", False)):
        for bucket in ("day", "hour"):
            groups: dict = defaultdict(list)
            for start, value in MEASUREMENTS[metric]:
                local = start.astimezone(zone)
                key = local.date() if bucket == "day" else local.replace(minute=0)
                groups[key].append(value)
            metrics[(metric, bucket)] = [
                {
                    "bucket": key,
                    "value": sum(values) if summed else sum(values) / len(values),
                    "min": min(values),
                    "max": max(values),
                    "measurements": len(values),
                }
                for key, values in sorted(groups.items())
            ]
    return {
        "events": dict(events),
        "minutes": {day: round(total, 1) for day, total in minutes.items()},
        "distance": distance,
        "metrics": metrics,
    }


def _read(user) -> dict:
    streams = {"steps": STEPS, "heart_rate": HEART}
    with user_context(user.pk):
        return {
            "events": {
                (r["day"], r["key"]): r["events"]
                for r in aggregates.events_per_day(user_id=user.pk)
            },
            "minutes": {
                r["day"]: r["minutes"] for r in aggregates.media_minutes_per_day(user_id=user.pk)
            },
            "distance": aggregates.distance_per_day(user_id=user.pk),
            "metrics": {
                (metric, bucket): aggregates.metric_rollup(
                    user_id=user.pk, metric=metric, stream=streams[metric], bucket=bucket
                )
                for metric in ("steps", "heart_rate")
                for bucket in ("day", "hour")
            },
        }


def _assert_same(read: dict, truth: dict) -> None:
    assert read["events"] == truth["events"]
    assert read["minutes"] == truth["minutes"]
    assert read["distance"] == truth["distance"]
    for key, rows in truth["metrics"].items():
        got = read["metrics"][key]
        assert [r["bucket"] for r in got] == [r["bucket"] for r in rows], key
        for mine, theirs in zip(got, rows, strict=True):
            assert mine["value"] == pytest.approx(theirs["value"]), key
            assert (mine["min"], mine["max"], mine["measurements"]) == (
                theirs["min"],
                theirs["max"],
                theirs["measurements"],
            ), key


@pytest.fixture
def celery_eager():
    from datapunk.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def kolkata_user(owner):
    with user_context(owner.pk):
        UserSettings.objects.create(user=owner, time_zone=KOLKATA, time_zone_chosen=True)
    _store(owner)
    return owner


def test_the_truths_differ_between_the_zones(kolkata_user):
    # Otherwise the tests below could not tell one zone's days from the other's.
    kolkata, kathmandu = _truths(kolkata_user, KOLKATA), _truths(kolkata_user, KATHMANDU)
    assert kolkata["events"] != kathmandu["events"]
    assert kolkata["minutes"] != kathmandu["minutes"]
    assert [r["points"] for r in kolkata["distance"]] != [
        r["points"] for r in kathmandu["distance"]
    ]
    day = ("steps", "day")
    assert [r["value"] for r in kolkata["metrics"][day]] != [
        r["value"] for r in kathmandu["metrics"][day]
    ]
    # The hours of a +05:45 zone start at a quarter past the UTC hour.
    first_hour = kathmandu["metrics"][("steps", "hour")][0]["bucket"]
    assert first_hour.astimezone(dt.UTC).minute == 15


def test_rollup_tables_add_up_over_the_users_days_before_and_after_a_change_of_zone(
    kolkata_user, client, celery_eager, django_capture_on_commit_callbacks
):
    with user_context(kolkata_user.pk):
        aggregates_refresh(user_id=kolkata_user.pk)
    _assert_same(_read(kolkata_user), _truths(kolkata_user, KOLKATA))

    client.force_login(kolkata_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/settings/", {"time_zone": KATHMANDU}).status_code == 302
    # No refresh by the test: the change of zone queued it.
    _assert_same(_read(kolkata_user), _truths(kolkata_user, KATHMANDU))


def test_continuous_aggregate_buckets_add_up_over_the_users_days_in_any_zone(kolkata_user):
    _as_continuous_aggregates(kolkata_user)
    _assert_same(_read(kolkata_user), _truths(kolkata_user, KOLKATA))

    # A change of zone: the quarter hours stay as they are, the days are cut anew on reading.
    with user_context(kolkata_user.pk):
        set_zone(user_id=kolkata_user.pk, name=KATHMANDU, chosen=True)
    _assert_same(_read(kolkata_user), _truths(kolkata_user, KATHMANDU))
    with user_context(kolkata_user.pk):
        set_zone(user_id=kolkata_user.pk, name="UTC", chosen=True)
    _assert_same(_read(kolkata_user), _truths(kolkata_user, "UTC"))


def test_migration_0009_gives_an_older_distance_rollup_its_first_and_last_fixes(kolkata_user):
    import importlib
    from types import SimpleNamespace

    migration = importlib.import_module("apps.analytics.migrations.0009_series_in_the_users_days")
    from apps.core.db.roles import table_owner

    with table_owner():  # as migrate runs
        with connection.cursor() as cursor:  # the table as migration 0002 made it before
            cursor.execute(
                "ALTER TABLE analytics_distance_daily "
                "DROP COLUMN first_point, DROP COLUMN last_point"
            )
        migration.forwards(None, SimpleNamespace(connection=connection))
    assert _read(kolkata_user)["distance"] == _truths(kolkata_user, KOLKATA)["distance"]


@pytest.mark.parametrize("shape", ["rollup", "continuous"])
def test_a_day_of_23_hours_adds_up_on_both_shapes(owner, shape):
    # Berlin skips 02:00-03:00 on 31 March 2024: that day has 23 hours, 22:00 UTC to 22:00.
    berlin = ZoneInfo("Europe/Berlin")
    with user_context(owner.pk):
        UserSettings.objects.create(user=owner, time_zone="Europe/Berlin", time_zone_chosen=True)
        starts = [
            dt.datetime(2024, 3, 30, 20, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=20 * n)
            for n in range(3 * 30)
        ]
        records_store(
            user_id=owner.pk,
            source="test",
            records=[EventRecord(kind="chrome.visit", occurred_at=s, title=str(s)) for s in starts],
        )
        metrics_write(
            user_id=owner.pk,
            rows=[
                MetricRecord("steps", s, s + dt.timedelta(minutes=5), 1.0, "count", STEPS)
                for s in starts
            ],
        )
        aggregates_refresh(user_id=owner.pk)
    if shape == "continuous":
        _as_continuous_aggregates(owner)
    days: dict = defaultdict(int)
    hours: dict = defaultdict(float)
    for s in starts:
        local = s.astimezone(berlin)
        days[local.date()] += 1
        hours[local.replace(minute=0)] += 1.0
    assert days[dt.date(2024, 3, 31)] == 23 * 3
    with user_context(owner.pk):
        counted = {r["day"]: r["events"] for r in aggregates.events_per_day(user_id=owner.pk)}
        daily = aggregates.metric_rollup(user_id=owner.pk, metric="steps", stream=STEPS)
        hourly = aggregates.metric_rollup(
            user_id=owner.pk, metric="steps", stream=STEPS, bucket="hour"
        )
    assert counted == dict(days)
    assert {r["bucket"]: r["value"] for r in daily} == {d: float(n) for d, n in days.items()}
    assert [(r["bucket"], r["value"]) for r in hourly] == sorted(hours.items())
