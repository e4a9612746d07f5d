"""Fit's All Data and TCX workouts imported end to end; a second import adds nothing."""

import json

import pytest

from apps.core.db.context import user_context
from apps.lake.metric_models import HealthMetric
from apps.lake.models import Event, Import, LocationPoint
from tests.acting import as_user, takeout_import

from .conftest import make_zip
from .takeout.test_fit_all_data import MINUTE, START, derived, point
from .takeout.test_fit_tcx import tcx, trackpoint

pytestmark = pytest.mark.django_db


def test_all_data_and_workouts_land_as_measurements_events_and_points(owner, tmp_path):
    with as_user(owner):
        members = {
            "Takeout/Fit/All Data/derived_com.google.step_count.delta_gms_estimated_steps.json": derived(
                [
                    point("com.google.step_count.delta", [{"intVal": i}], START + i * MINUTE)
                    for i in range(30)
                ]
            ),
            "Takeout/Fit/All Data/derived_com.google.location.sample_gms_merge.json": derived(
                [
                    point(
                        "com.google.location.sample",
                        [{"fpVal": 38.7 + i / 1000}, {"fpVal": -9.1}, {"fpVal": 5.0}],
                        START + i * MINUTE,
                    )
                    for i in range(10)
                ]
            ),
            "Takeout/Fit/Activities/2021-04-19T22_57_39+02_00_PT5M_Running.tcx": tcx(
                [
                    (
                        "2021-04-19T20:57:39Z",
                        300.0,
                        [
                            trackpoint(f"2021-04-19T20:57:{40 + i}Z", 38.8, -9.2 + i / 1000)
                            for i in range(5)
                        ],
                    )
                ]
            ),
            "Takeout/Fit/All Sessions/2021-04-19T22_57_39+02_00_RUNNING.json": json.dumps(
                {"fitnessActivity": "running", "startTime": "2021-04-19T20:57:39Z"}
            ),
        }
        archive = make_zip(tmp_path / "takeout.zip", members)

        run = takeout_import(owner, archive)

        assert run.status == Import.Status.DONE, run.error
        assert set(run.entries.values_list("product", "status")) == {
            ("fit.all_data", "done"),
            ("fit.activities", "done"),
            ("fit.sessions", "done"),
        }
        with user_context(owner.pk):
            steps = list(
                HealthMetric.objects.filter(metric="steps").values_list("value", flat=True)
            )
            assert not Event.objects.filter(kind__in=["fit.steps", "fit.data_point"]).exists()
        assert sorted(steps) == [float(i) for i in range(30)]
        assert Event.objects.filter(user=owner, kind="fit.activity").count() == 1
        assert LocationPoint.objects.filter(user=owner, source="fit").count() == 10
        assert LocationPoint.objects.filter(user=owner, source="fit.tcx").count() == 5
        assert (run.records_written, run.records_quarantined) == (30 + 10 + 1 + 5 + 1, 0)

        again = takeout_import(owner, archive)
        assert (again.records_written, again.records_duplicate) == (0, 47)


def test_csv_days_and_times_are_placed_in_the_users_zone(owner, tmp_path):
    """The CSVs' dates and times without an offset are the person's (+05:30 here), never
    UTC or the server's zone; a time with an offset keeps it."""
    import datetime as dt

    from apps.core.timezones import set_zone

    with as_user(owner):
        set_zone(user_id=owner.pk, name="Asia/Kolkata", chosen=True)
    folder = "Takeout/Fit/Daily activity metrics"
    archive = make_zip(
        tmp_path / "takeout.zip",
        {
            f"{folder}/Daily activity metrics.csv": "Date,Step count\n2021-06-10,3952\n",
            f"{folder}/2021-06-10.csv": (
                "Start time,End time,Step count\n"
                "00:00:00.000,00:15:00.000,12\n"
                "23:45:00.000,00:00:00.000,7\n"
            ),
            f"{folder}/2021-06-11.csv": (
                "Start time,End time,Step count\n00:00:00.000+01:00,00:15:00.000+01:00,5\n"
            ),
        },
    )

    run = takeout_import(owner, archive)

    assert run.status == Import.Status.DONE, run.error
    assert run.records_quarantined == 0
    with user_context(owner.pk):
        stored = {
            (m.stream, m.value_text): (m.start, m.end)
            for m in HealthMetric.objects.filter(metric="steps")
        }
    kolkata = dt.timezone(dt.timedelta(hours=5, minutes=30))
    day = dt.datetime(2021, 6, 10, tzinfo=kolkata)
    assert stored == {
        ("fit.daily_metrics", "3952"): (day, day + dt.timedelta(days=1)),
        ("fit.intervals", "12"): (day, day + dt.timedelta(minutes=15)),
        ("fit.intervals", "7"): (
            day + dt.timedelta(hours=23, minutes=45),
            day + dt.timedelta(days=1),
        ),
        ("fit.intervals", "5"): (
            dt.datetime(2021, 6, 11, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            dt.datetime(2021, 6, 11, 0, 15, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
    }
