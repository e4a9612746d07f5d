"""The daily series match the raw lake (after a refresh), per user, and their API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDay

from apps.analytics import aggregates
from apps.analytics.aggregates import (
    ASSUMED_PLAY_SECONDS,
    ASSUMED_WATCH_SECONDS,
    aggregates_refresh,
    series_is_continuous,
    timescale_has_community_features,
)
from apps.analytics.spatial import haversine_m
from apps.core.db.context import system_context
from apps.lake.models import Event, LocationPoint
from apps.lake.normalize import UNDATED
from apps.lake.takeout.records import EventRecord
from tests.acting import as_user

from .conftest import SAMPLE, at, store_events

pytestmark = pytest.mark.django_db


def test_events_per_day_match_raw_counts_for_the_demo_data(sample_owner):
    with as_user(sample_owner):
        raw = {
            (row["day"].date(), row["kind"]): row["n"]
            for row in Event.objects.filter(user=sample_owner, occurred_at__gt=UNDATED)
            .annotate(day=TruncDay("occurred_at", tzinfo=dt.UTC))
            .values("day", "kind")
            .annotate(n=Count("id"))
        }
        series = {
            (row["day"], row["key"]): row["events"]
            for row in aggregates.events_per_day(user_id=sample_owner.pk)
        }
        assert series == raw
        assert len({day for day, _ in raw}) >= 5  # the sample spreads over days
        by_source = aggregates.events_per_day(user_id=sample_owner.pk, group_by="source")
        assert {row["key"] for row in by_source} == {"takeout"}
        assert sum(row["events"] for row in by_source) == sum(raw.values())


def test_distance_per_day_matches_the_fixes_joined_in_time_order(sample_owner):
    with as_user(sample_owner):
        fixes: dict[dt.date, list] = {}
        for point in LocationPoint.objects.filter(user=sample_owner).order_by("recorded_at"):
            if point.accuracy_m is None or point.accuracy_m <= aggregates.MAX_DISTANCE_ACCURACY_M:
                fixes.setdefault(point.recorded_at.date(), []).append(point.point)
        expected = {
            day: sum(haversine_m(a.y, a.x, b.y, b.x) for a, b in zip(ps, ps[1:], strict=False))
            / 1000
            for day, ps in fixes.items()
        }
        rows = aggregates.distance_per_day(user_id=sample_owner.pk)
        assert {row["day"] for row in rows} == set(expected)
        for row in rows:
            # spheroid (PostGIS) against sphere (haversine): within half a percent
            assert row["km"] == pytest.approx(expected[row["day"]], rel=5e-3, abs=0.01)
            assert row["points"] == len(fixes[row["day"]])
        assert sum(row["km"] for row in rows) > 5  # trips, not jitter


def test_media_minutes_use_durations_where_known_and_the_assumption_otherwise(owner):
    store_events(
        owner,
        EventRecord(kind="spotify.play", occurred_at=at(2, 9), data={"ms_played": 180_000}),
        EventRecord(
            kind="spotify.play", occurred_at=at(2, 10), data={"track": {"duration_ms": 240_000}}
        ),
        EventRecord(kind="spotify.play", occurred_at=at(2, 11)),  # assumed
        EventRecord(kind="youtube.watch", occurred_at=at(2, 20), title="a"),  # assumed
        EventRecord(kind="youtube.watch", occurred_at=at(3, 20), ended_at=at(3, 20, 30), title="b"),
        EventRecord(kind="chrome.visit", occurred_at=at(2, 12), title="not media"),
    )
    with as_user(owner):
        aggregates_refresh(user_id=owner.pk)
        minutes = {
            (row["day"].isoformat(), row["key"]): row["minutes"]
            for row in aggregates.media_minutes_per_day(user_id=owner.pk)
        }
        assert minutes == {
            ("2024-05-02", "spotify.play"): round((180 + 240 + ASSUMED_PLAY_SECONDS) / 60, 1),
            ("2024-05-02", "youtube.watch"): round(ASSUMED_WATCH_SECONDS / 60, 1),
            ("2024-05-03", "youtube.watch"): 30.0,
        }


def test_a_refresh_picks_up_new_rows_and_forgets_deleted_ones(owner):
    with as_user(owner):
        store_events(owner, EventRecord(kind="x.y", occurred_at=at(4), title="one"))
        aggregates_refresh(user_id=owner.pk)
        assert [r["events"] for r in aggregates.events_per_day(user_id=owner.pk)] == [1]
        store_events(owner, EventRecord(kind="x.y", occurred_at=at(4, 13), title="two"))
        assert [r["events"] for r in aggregates.events_per_day(user_id=owner.pk)] == [1]  # not yet
        aggregates_refresh(user_id=owner.pk, start=at(4), end=at(4))
        assert [r["events"] for r in aggregates.events_per_day(user_id=owner.pk)] == [2]
        Event.objects.filter(user=owner, title="one").delete()
        aggregates_refresh(user_id=owner.pk, start=at(4), end=at(4))
        assert [r["events"] for r in aggregates.events_per_day(user_id=owner.pk)] == [1]


def test_series_are_per_user(owner, outsider, import_takeout):
    import_takeout(outsider, **SAMPLE)
    with system_context():  # every user's days, as the nightly task refreshes them
        aggregates_refresh()
    with as_user(owner):
        assert aggregates.events_per_day(user_id=owner.pk) == []
        assert aggregates.distance_per_day(user_id=owner.pk) == []
    with as_user(outsider):
        assert aggregates.events_per_day(user_id=outsider.pk)


def test_materialization_follows_what_the_server_offers():
    """Continuous aggregates where TimescaleDB has its community features, rollup
    hypertables on the Apache-only build (the local and CI server)."""
    community = timescale_has_community_features()
    for series in aggregates.SERIES:
        assert series_is_continuous(series) is community
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
                [series.name],
            )
            assert cursor.fetchone()[0] == (0 if community else 1)


def test_timeseries_api_reads_ranges_of_the_users_own_series(client, sample_owner, outsider):
    client.force_login(sample_owner)
    body = client.get("/api/timeseries/?metric=distance&start=2024-03-02&end=2024-03-03").json()
    assert [row["day"] for row in body["results"]] == ["2024-03-02", "2024-03-03"]
    events = client.get("/api/timeseries/?metric=events&group_by=source").json()["results"]
    assert events and {row["key"] for row in events} == {"takeout"}
    assert client.get("/api/timeseries/?metric=media").status_code == 200
    client.force_login(outsider)
    assert client.get("/api/timeseries/?metric=events").json()["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "metric=nope",
        "metric=events&group_by=user_id",
        "metric=events&start=03/02/2024",
        "metric=distance&start=2024-03-05&end=2024-03-01",
        "metric=distance&end=2024-02-30",
    ],
)
def test_timeseries_api_bad_input_is_a_400(client, owner, query):
    client.force_login(owner)
    response = client.get(f"/api/timeseries/?{query}")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_timeseries_api_needs_a_login(client):
    assert client.get("/api/timeseries/?metric=events").status_code == 403


def test_refresh_task_and_command_run_for_one_user(owner, import_takeout):
    from django.core.management import call_command

    from apps.analytics.tasks import refresh_aggregates

    import_takeout(owner, **SAMPLE)
    with as_user(owner):
        assert aggregates.events_per_day(user_id=owner.pk) == []
    refresh_aggregates(owner.pk)
    with as_user(owner):
        assert aggregates.events_per_day(user_id=owner.pk)
    call_command("refresh_aggregates", "--user", owner.username)
    with pytest.raises(Exception, match="no user named"):
        call_command("refresh_aggregates", "--user", "nobody-here")
