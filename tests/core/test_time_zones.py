"""A user's days run in their own time zone: daily series, date filters, "where was I on",
timeline day groups; the zone is detected from the browser once and editable on /settings/."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.analytics import aggregates
from apps.analytics.aggregates import aggregates_refresh
from apps.core.models import UserSettings
from apps.core.timezones import set_zone, zone_of
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import EventRecord, LocationRecord

pytestmark = pytest.mark.django_db

KOLKATA = "Asia/Kolkata"  # +05:30, no DST
UTC = dt.UTC
# 18:00 UTC on 2 May is 23:30 in Kolkata (still the 2nd); 19:00 UTC is 00:30 on the 3rd.
LATE_ON_THE_2ND = dt.datetime(2024, 5, 2, 18, 0, tzinfo=UTC)
EARLY_ON_THE_3RD = dt.datetime(2024, 5, 2, 19, 0, tzinfo=UTC)


def _store(user, *records):
    from apps.core.db.context import user_context

    with user_context(user.pk):
        return records_store(user_id=user.pk, source="test", records=list(records))


def _two_events(user):
    _store(
        user,
        EventRecord(kind="chrome.visit", occurred_at=LATE_ON_THE_2ND, title="late"),
        EventRecord(kind="chrome.visit", occurred_at=EARLY_ON_THE_3RD, title="early"),
    )


def _in_zone(user, name):
    from apps.core.db.context import user_context

    with user_context(user.pk):
        UserSettings.objects.create(user=user, time_zone=name, time_zone_chosen=True)


def _zone(user) -> str:
    from apps.core.db.context import user_context

    with user_context(user.pk):
        return zone_of(user.pk).key


def _per_day(user):
    from apps.core.db.context import user_context

    with user_context(user.pk):
        aggregates_refresh(user_id=user.pk)
        return {r["day"]: r["events"] for r in aggregates.events_per_day(user_id=user.pk)}


def test_without_a_zone_the_days_are_those_of_settings_time_zone(owner, settings):
    assert settings.TIME_ZONE == "UTC"
    _two_events(owner)
    assert _zone(owner) == "UTC"
    assert _per_day(owner) == {dt.date(2024, 5, 2): 2}


def test_daily_series_cut_days_at_the_users_midnight(owner, outsider):
    _in_zone(owner, KOLKATA)
    _two_events(owner)
    _two_events(outsider)  # the same instants for a user in UTC
    assert _per_day(owner) == {dt.date(2024, 5, 2): 1, dt.date(2024, 5, 3): 1}
    assert _per_day(outsider) == {dt.date(2024, 5, 2): 2}


def test_the_refresh_of_all_users_uses_each_owners_zone(owner, outsider):
    from apps.core.db.context import system_context, user_context

    _in_zone(owner, KOLKATA)
    _two_events(owner)
    _two_events(outsider)
    with system_context():
        aggregates_refresh(start=LATE_ON_THE_2ND, end=EARLY_ON_THE_3RD)
    with user_context(owner.pk):
        assert {r["day"] for r in aggregates.events_per_day(user_id=owner.pk)} == {
            dt.date(2024, 5, 2),
            dt.date(2024, 5, 3),
        }
    with user_context(outsider.pk):
        assert [r["events"] for r in aggregates.events_per_day(user_id=outsider.pk)] == [2]


def test_a_change_of_zone_recomputes_the_days(
    owner, client, eager_celery, django_capture_on_commit_callbacks
):
    _two_events(owner)
    assert _per_day(owner) == {dt.date(2024, 5, 2): 2}
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/", {"time_zone": KOLKATA})
    assert response.status_code == 302
    from apps.core.db.context import user_context

    with user_context(owner.pk):
        # No refresh by the test: the change queued it.
        days = {r["day"]: r["events"] for r in aggregates.events_per_day(user_id=owner.pk)}
    assert days == {dt.date(2024, 5, 2): 1, dt.date(2024, 5, 3): 1}


def test_date_filters_of_the_api_are_the_users_days(owner, client):
    _in_zone(owner, KOLKATA)
    _two_events(owner)
    client.force_login(owner)
    body = client.get("/api/events/?start=2024-05-03&end=2024-05-03").json()
    assert [e["title"] for e in body["results"]] == ["early"]
    # API times stay absolute, with their offset.
    assert dt.datetime.fromisoformat(body["results"][0]["occurred_at"]) == EARLY_ON_THE_3RD
    body = client.get("/api/events/?start=2024-05-02&end=2024-05-02").json()
    assert [e["title"] for e in body["results"]] == ["late"]
    # A date-time without an offset is read in the user's zone: 00:00 Kolkata = 18:30 UTC.
    body = client.get("/api/events/?start=2024-05-03T00:00:00").json()
    assert [e["title"] for e in body["results"]] == ["early"]


def test_where_was_i_on_a_day_of_the_users_zone(owner, client):
    _in_zone(owner, KOLKATA)
    _store(
        owner,
        LocationRecord(recorded_at=LATE_ON_THE_2ND, latitude=12.97, longitude=77.59),
        LocationRecord(recorded_at=EARLY_ON_THE_3RD, latitude=12.98, longitude=77.60),
    )
    client.force_login(owner)
    on_the_3rd = client.get("/api/where/?date=2024-05-03").json()
    assert on_the_3rd["fixes"] == 1
    assert dt.datetime.fromisoformat(on_the_3rd["first_fix"]) == EARLY_ON_THE_3RD
    assert client.get("/api/where/?date=2024-05-02").json()["fixes"] == 1


def test_the_timeline_groups_by_the_users_days_and_shows_local_times(owner, client):
    _in_zone(owner, KOLKATA)
    _two_events(owner)
    client.force_login(owner)
    page = client.get("/timeline/").content.decode()
    assert "Friday 3 May 2024" in page and "Thursday 2 May 2024" in page
    assert "00:30" in page and "23:30" in page  # not 19:00 and 18:00 (UTC)
    assert "times in Asia/Kolkata" in page


def test_the_browser_reports_the_zone_once_and_never_overrides_a_choice(owner, client):
    client.force_login(owner)
    assert "time-zone/detected" in client.get("/timeline/").content.decode()
    response = client.post("/settings/time-zone/detected/", {"time_zone": "Europe/Lisbon"})
    assert response.status_code == 200 and response.json()["stored"] is True
    assert _zone(owner) == "Europe/Lisbon"
    assert "time-zone/detected" not in client.get("/timeline/").content.decode()
    client.post("/settings/", {"time_zone": KOLKATA})
    response = client.post("/settings/time-zone/detected/", {"time_zone": "Europe/Lisbon"})
    assert response.json() == {"time_zone": KOLKATA, "stored": False}


@pytest.mark.parametrize("bad", ["", "Mars/Olympus", "../../etc/passwd", "x" * 100])
def test_a_bad_zone_is_refused_with_a_message_and_nothing_changes(owner, client, bad):
    _in_zone(owner, KOLKATA)
    client.force_login(owner)
    response = client.post("/settings/", {"time_zone": bad})
    assert response.status_code == 400
    assert "is not a time zone name" in response.content.decode()
    response = client.post("/settings/time-zone/detected/", {"time_zone": bad})
    assert response.status_code == 400 and "is not a time zone" in response.json()["detail"]
    assert _zone(owner) == KOLKATA


def test_one_user_cannot_read_another_users_zone(owner, outsider):
    from apps.core.db.context import user_context

    _in_zone(owner, KOLKATA)
    with user_context(outsider.pk):
        assert zone_of(owner.pk).key == "UTC"  # the row is not visible: the default
    with pytest.raises(ValueError):
        set_zone(user_id=owner.pk, name="Nowhere/Land", chosen=True)


def test_an_old_name_the_browser_reports_is_stored_under_its_current_name(owner, client):
    client.force_login(owner)
    response = client.post("/settings/time-zone/detected/", {"time_zone": "Asia/Calcutta"})
    assert response.json() == {"time_zone": KOLKATA, "stored": True}
    assert _zone(owner) == KOLKATA
