"""Acceptance (#16): a Fit export whose steps are written three times, in overlapping
streams, by someone in India (+05:30). The daily steps read back from All Data, in the
user's zone, equal Google's own "Daily activity metrics.csv" on every day.

The numbers below are the export's, written by this test: per day and stream, the walks
(local time, steps). ``estimated_steps`` is what Google's CSV counts; the merged stream
misses one walk a day and the watch saw only some of them, so any sum over the streams,
and any day cut at UTC midnight, disagrees with the CSV (asserted, so the data set
cannot quietly stop testing that).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest

from apps.core.db.context import user_context
from apps.core.models import UserSettings
from apps.lake.metric_models import HealthMetric
from apps.lake.metrics import metric_series, preferred_stream
from apps.lake.models import Event, Import
from tests.acting import takeout_import

from .conftest import make_zip

pytestmark = pytest.mark.django_db

KOLKATA = ZoneInfo("Asia/Kolkata")
OFFSET = dt.timezone(dt.timedelta(hours=5, minutes=30))
FOLDER = "Takeout/Fit/All Data"
ESTIMATED = "derived_com.google.step_count.delta_com.google.android.gms_estimated_steps"
MERGED = "derived_com.google.step_count.delta_com.google.android.gms_merge_step_deltas"
WATCH = "raw_com.google.step_count.delta_com.mc.miband1_steps"

# (day, local start "HH:MM", minutes, steps): the walks of the phone's estimate.
WALKS = [
    (dt.date(2021, 6, 8), "00:10", 10, 412),  # 18:40 UTC on the 7th
    (dt.date(2021, 6, 8), "05:20", 15, 1250),  # 23:50 UTC on the 7th
    (dt.date(2021, 6, 8), "09:00", 30, 2304),
    (dt.date(2021, 6, 8), "23:45", 14, 611),
    (dt.date(2021, 6, 9), "03:00", 20, 980),  # 21:30 UTC on the 8th
    (dt.date(2021, 6, 9), "12:15", 45, 3952),
    (dt.date(2021, 6, 9), "18:00", 5, 177),
    (dt.date(2021, 6, 10), "00:00", 30, 2001),  # the day's first minute
    (dt.date(2021, 6, 10), "17:30", 60, 5120),
]
MERGED_MISSES = {1, 5, 8}  # the merged stream lacks these walks
WATCH_SAW = {0, 2, 5, 7}  # the watch recorded these, cut into minutes, a bit higher
DAILY_STEPS = {  # Google's CSV: the sums of WALKS per local day, by hand
    dt.date(2021, 6, 8): 412 + 1250 + 2304 + 611,
    dt.date(2021, 6, 9): 980 + 3952 + 177,
    dt.date(2021, 6, 10): 2001 + 5120,
}


def local(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), OFFSET)


def nanos(moment: dt.datetime) -> int:
    return round(moment.timestamp()) * 10**9


def step_point(start: dt.datetime, minutes: int, steps: int) -> dict:
    return {
        "dataTypeName": "com.google.step_count.delta",
        "startTimeNanos": nanos(start),
        "endTimeNanos": nanos(start + dt.timedelta(minutes=minutes)),
        "originDataSourceId": "raw:com.google.step_count.cumulative:Xiaomi:Mi Band:1",
        "fitValue": [{"value": {"intVal": steps}}],
        "modifiedTimeMillis": 1_623_500_000_000,
    }


def all_data(name: str, points: list[dict]) -> str:
    return json.dumps({"Data Source": name.replace("_", ":", 3), "Data Points": points})


def streams() -> dict[str, list[dict]]:
    estimated, merged, watch = [], [], []
    for index, (day, hhmm, minutes, steps) in enumerate(WALKS):
        start = local(day, hhmm)
        estimated.append(step_point(start, minutes, steps))
        if index not in MERGED_MISSES:
            merged.append(step_point(start, minutes, steps))
        if index in WATCH_SAW:
            per_minute = steps // minutes + 3
            watch.extend(
                step_point(start + dt.timedelta(minutes=m), 1, per_minute) for m in range(minutes)
            )
    return {ESTIMATED: estimated, MERGED: merged, WATCH: watch}


def daily_csv() -> str:
    lines = ["Date,Move Minutes count,Calories (kcal),Distance (m),Heart Points,Step count"]
    for day, steps in DAILY_STEPS.items():
        lines.append(f"{day.isoformat()},40,1900.5,{steps * 0.7:.1f},12,{steps}")
    return "\r\n".join(lines) + "\r\n"


def interval_csv(day: dt.date) -> str:
    """That day's 15-minute intervals in +05:30, steps where a walk starts."""
    by_slot: dict[str, int] = defaultdict(int)
    for walk_day, hhmm, _, steps in WALKS:
        if walk_day == day:
            hour, minute = map(int, hhmm.split(":"))
            by_slot[f"{hour:02d}:{minute // 15 * 15:02d}"] += steps
    lines = ["Start time,End time,Move Minutes count,Step count"]
    for slot in range(96):
        start = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=15 * slot)
        end = start + dt.timedelta(minutes=15)
        key = start.strftime("%H:%M")
        steps = str(by_slot[key]) if key in by_slot else ""
        lines.append(f"{key}:00.000+05:30,{end:%H:%M}:00.000+05:30,{'5' if steps else ''},{steps}")
    return "\n".join(lines) + "\n"


def test_fixture_would_catch_a_sum_over_streams_or_utc_days():
    by_utc_day: dict[dt.date, int] = defaultdict(int)
    all_streams: dict[dt.date, int] = defaultdict(int)
    for points in streams().values():
        for p in points:
            steps = p["fitValue"][0]["value"]["intVal"]
            start = dt.datetime.fromtimestamp(p["startTimeNanos"] / 1e9, dt.UTC)
            all_streams[start.astimezone(KOLKATA).date()] += steps
    for p in streams()[ESTIMATED]:
        start = dt.datetime.fromtimestamp(p["startTimeNanos"] / 1e9, dt.UTC)
        by_utc_day[start.date()] += p["fitValue"][0]["value"]["intVal"]
    for day, steps in DAILY_STEPS.items():
        assert all_streams[day] != steps
        assert by_utc_day[day] != steps


def test_daily_steps_of_all_data_equal_googles_daily_csv_in_the_users_zone(owner, tmp_path, client):

    with user_context(owner.pk):
        UserSettings.objects.create(user=owner, time_zone="Asia/Kolkata", time_zone_chosen=True)
    members: dict[str, str] = {
        f"{FOLDER}/{name}.json": all_data(name, points) for name, points in streams().items()
    }
    members["Takeout/Fit/Daily activity metrics/Daily activity metrics.csv"] = daily_csv()
    for day in DAILY_STEPS:
        members[f"Takeout/Fit/Daily activity metrics/{day.isoformat()}.csv"] = interval_csv(day)
    with user_context(owner.pk):
        run = takeout_import(owner, make_zip(tmp_path / "takeout.zip", members))
    assert run.status == Import.Status.DONE, run.error
    assert run.records_quarantined == 0

    with user_context(owner.pk):
        assert preferred_stream(user_id=owner.pk, metric="steps") == ESTIMATED
        from_all_data = {
            r["bucket"]: r["value"] for r in metric_series(user_id=owner.pk, metric="steps")
        }
        from_daily_csv = {
            r["bucket"]: r["value"]
            for r in metric_series(user_id=owner.pk, metric="steps", stream="fit.daily_metrics")
        }
        from_intervals = {
            r["bucket"]: r["value"]
            for r in metric_series(user_id=owner.pk, metric="steps", stream="fit.intervals")
        }
        # Every stream is kept: 9 + 6 + the watch's minutes + 3 days + the intervals.
        watch_minutes = sum(WALKS[i][2] for i in WATCH_SAW)
        stored = HealthMetric.objects.filter(metric="steps").count()
        assert stored == 9 + 6 + watch_minutes + 3 + len(WALKS)
        assert not Event.objects.filter(kind__startswith="fit.").exists()
        # The CSV's days are the person's: from their midnight to the next.
        csv_days = HealthMetric.objects.filter(metric="steps", stream="fit.daily_metrics")
        assert sorted(csv_days.values_list("start", "end")) == [
            (local(day, "00:00"), local(day + dt.timedelta(days=1), "00:00")) for day in DAILY_STEPS
        ]

    expected = {day: float(steps) for day, steps in DAILY_STEPS.items()}
    assert from_all_data == expected
    assert from_daily_csv == expected
    assert from_intervals == expected

    # The same through the API, in the user's days.
    client.force_login(owner)
    body = client.get("/api/metrics/", {"metric": "steps", "start": "2021-06-09"}).json()
    assert body["stream"] == ESTIMATED
    assert [(r["bucket"], r["value"]) for r in body["results"]] == [
        ("2021-06-09", 5109.0),
        ("2021-06-10", 7121.0),
    ]
