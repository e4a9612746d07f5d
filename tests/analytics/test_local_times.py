"""Every page shows times in the signed-in user's zone, and beside it the local time of
the place where an event happened when its source said so (apps/lake/normalize.py,
LOCAL_TIME_KEY; apps/analytics/templatetags/analytics_tags.py, local_time_there)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import PurePosixPath

import pytest

from apps.analytics.search.services import embeddings_backfill
from apps.core.db.context import user_context
from apps.core.models import UserSettings
from apps.lake.models import Event
from apps.lake.normalize import LOCAL_TIME_KEY, event_row
from apps.lake.pipeline import records_store
from apps.lake.takeout import calendar
from apps.lake.takeout.records import EventRecord

from .search_data import store_life

pytestmark = pytest.mark.django_db

KOLKATA = "Asia/Kolkata"  # +05:30
NEW_YORK_SUMMER = dt.timezone(dt.timedelta(hours=-4))
KOLKATA_OFFSET = dt.timezone(dt.timedelta(hours=5, minutes=30))


def _in_zone(user, name=KOLKATA):
    with user_context(user.pk):
        UserSettings.objects.create(user=user, time_zone=name, time_zone_chosen=True)


def _store(user, *records):
    with user_context(user.pk):
        return records_store(user_id=user.pk, source="test", records=list(records))


def test_the_search_page_shows_the_users_time_not_utc(owner, client):
    _in_zone(owner)
    with user_context(owner.pk):
        store_life(owner.pk)  # Ichiran Dotonbori saved at 2024-04-02 12:00 UTC
        embeddings_backfill(user_id=owner.pk)  # the page searches once its events are read
    client.force_login(owner)
    page = client.get("/search/", {"q": "Ichiran"}).content.decode()
    assert "Ichiran" in page
    assert "2024-04-02 17:30" in page  # 12:00 UTC is 17:30 in Kolkata
    assert "12:00 UTC" not in page and " UTC</time>" not in page


def test_the_feed_page_shows_the_users_time_not_the_iso_text(owner, client):
    _in_zone(owner)
    _store(
        owner,
        EventRecord(
            kind="mood.logged",
            occurred_at=dt.datetime(2024, 5, 2, 19, 0, tzinfo=dt.UTC),
            title="fine",
        ),
    )
    client.force_login(owner)
    page = client.get("/feed/").content.decode()
    assert ">2024-05-03 00:30</time>" in page
    assert 'datetime="2024-05-02T19:00:00Z"' in page  # the machine-readable time stays absolute


def test_every_page_tells_its_scripts_the_users_zone(owner, client):
    _in_zone(owner)
    client.force_login(owner)
    for url in ("/", "/timeline/", "/map/", "/feed/", "/connections/", "/search/"):
        page = client.get(url).content.decode()
        assert f'data-time-zone="{KOLKATA}"' in page, url
        assert "js/local_time.js" in page, url


def test_a_source_offset_is_kept_beside_the_absolute_time(owner):
    # A phone's timeline segment written at -04:00: the moment is stored in UTC, the
    # offset is kept apart from the item's own fields and identity.
    record = EventRecord(
        kind="timeline.activity",
        occurred_at=dt.datetime(2024, 7, 1, 10, 0, tzinfo=NEW_YORK_SUMMER),
        ended_at=dt.datetime(2024, 7, 1, 11, 0, tzinfo=NEW_YORK_SUMMER),
        data={"startTime": "2024-07-01T10:00:00.000-04:00"},
    )
    _store(owner, record)
    with user_context(owner.pk):
        event = Event.objects.get(user=owner)
    assert event.occurred_at == dt.datetime(2024, 7, 1, 14, 0, tzinfo=dt.UTC)
    assert event.data[LOCAL_TIME_KEY] == {"offset": "-04:00"}
    assert event.data["startTime"] == "2024-07-01T10:00:00.000-04:00"
    # The same item given in UTC is the same item: the offset is not its identity.
    again = EventRecord(
        kind="timeline.activity",
        occurred_at=dt.datetime(2024, 7, 1, 14, 0, tzinfo=dt.UTC),
        ended_at=dt.datetime(2024, 7, 1, 15, 0, tzinfo=dt.UTC),
        data={"startTime": "2024-07-01T10:00:00.000-04:00"},
    )
    assert event_row(again).content_hash == event_row(record).content_hash
    # A time in UTC keeps nothing.
    assert LOCAL_TIME_KEY not in event_row(again).data_json


def test_a_calendar_tzid_is_kept_with_its_zone_name():
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
        b"BEGIN:VEVENT\r\nDTSTART;TZID=America/New_York:20240701T090000\r\n"
        b"DTEND;TZID=America/New_York:20240701T100000\r\nSUMMARY:Standup\r\n"
        b"UID:standup-1@google.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (record,) = list(calendar.parse(io.BytesIO(ics), PurePosixPath("Takeout/Calendar/Work.ics")))
    row = event_row(record)
    assert row.occurred_at == dt.datetime(2024, 7, 1, 13, 0, tzinfo=dt.UTC)
    assert '"_local_time":{"offset":"-04:00","zone":"America/New_York"}' in row.data_json


def test_my_activity_html_keeps_no_offset_of_its_own():
    # Takeout prints My Activity pages in the zone the export was made in: not a place.
    from apps.lake.takeout import my_activity

    from ..lake.takeout.test_my_activity import WATCH_CARD, page

    path = PurePosixPath("Takeout/My Activity/YouTube/MyActivity.html")
    (record,) = list(my_activity.parse(io.BytesIO(page(WATCH_CARD)), path))
    assert record.data["time"] == "Nov 7, 2020, 10:15:09 PM EST"  # as the page wrote it
    assert LOCAL_TIME_KEY not in event_row(record).data_json


def test_pages_show_the_local_time_there_when_it_differs(owner, client):
    _in_zone(owner)
    _store(
        owner,
        EventRecord(
            kind="timeline.activity",
            occurred_at=dt.datetime(2024, 7, 1, 10, 0, tzinfo=NEW_YORK_SUMMER),
            title="Walk in Brooklyn",
        ),
        # At home: the place's clock is the user's, nothing more to say.
        EventRecord(
            kind="timeline.activity",
            occurred_at=dt.datetime(2024, 7, 2, 8, 0, tzinfo=KOLKATA_OFFSET),
            title="Walk at home",
        ),
    )
    with user_context(owner.pk):
        away = Event.objects.get(title="Walk in Brooklyn")
        home = Event.objects.get(title="Walk at home")
    client.force_login(owner)
    timeline = client.get("/timeline/").content.decode()
    # 14:00 UTC: 19:30 for the user in Kolkata, 10:00 in New York.
    assert "19:30" in timeline
    assert 'data-local-there="10:00 (-04:00)"' in timeline
    assert timeline.count("data-local-there=") == 1
    detail = client.get(f"/events/{away.pk}/").content.decode()
    assert "2024-07-01 19:30" in detail and "local time there: 10:00 (-04:00)" in detail
    assert "local time there" not in client.get(f"/events/{home.pk}/").content.decode()


def test_the_local_time_there_names_its_day_when_the_days_differ(owner, client):
    _in_zone(owner)
    # 23:00 on 1 July in New York is 08:30 on 2 July in Kolkata.
    _store(
        owner,
        EventRecord(
            kind="timeline.activity",
            occurred_at=dt.datetime(2024, 7, 1, 23, 0, tzinfo=NEW_YORK_SUMMER),
            title="Late dinner",
        ),
    )
    client.force_login(owner)
    timeline = client.get("/timeline/").content.decode()
    assert 'data-local-there="Mon 1 Jul 23:00 (-04:00)"' in timeline
    assert "Tuesday 2 July 2024" in timeline


def test_the_ingest_api_keeps_the_phones_offset_and_answers_in_iso_with_offset(
    owner, client, settings
):
    # On the test's thread: the ingest threads' connections cannot see this test's rows.
    settings.DATAPUNK_INGEST_THREADS = 0
    from rest_framework.test import APIClient

    from apps.stream.services import ingest_key_rotate

    _in_zone(owner)
    with user_context(owner.pk):
        key = ingest_key_rotate(user_id=owner.pk)
    api = APIClient()
    response = api.post(
        "/api/ingest/events/",
        {"kind": "mood.logged", "occurred_at": "2024-07-01T10:00:00-04:00", "title": "phone"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {key.api_key}",
    )
    assert response.status_code == 202, response.content
    client.force_login(owner)
    (item,) = client.get("/api/events/", {"kind": "mood.logged"}).json()["results"]
    assert dt.datetime.fromisoformat(item["occurred_at"]) == dt.datetime(
        2024, 7, 1, 14, 0, tzinfo=dt.UTC
    )
    assert item["data"][LOCAL_TIME_KEY] == {"offset": "-04:00"}


def test_a_phones_timeline_segment_keeps_its_offset():
    from ..lake.takeout.location.test_device import android, of_type, parse

    (activity,) = of_type(parse(android()), EventRecord, "location.activity")
    row = event_row(activity)  # "startTime": "2024-05-01T12:30:00.000+02:00"
    assert row.occurred_at == dt.datetime(2024, 5, 1, 10, 30, tzinfo=dt.UTC)
    assert '"_local_time":{"offset":"+02:00"}' in row.data_json


def test_the_connections_page_shows_the_last_sync_on_the_users_clock(owner, client):
    from apps.connectors.models import Connection

    _in_zone(owner)
    with user_context(owner.pk):
        conn = Connection(
            user=owner,
            provider="spotify",
            external_id="listener",
            token_expires_at=dt.datetime(2024, 5, 3, 0, 0, tzinfo=dt.UTC),
            last_sync_at=dt.datetime(2024, 5, 2, 19, 0, tzinfo=dt.UTC),
        )
        conn.access_token = "access-for-tests"
        conn.refresh_token = "refresh-for-tests"
        conn.save()
    client.force_login(owner)
    page = client.get("/connections/").content.decode()
    assert 'datetime="2024-05-03T00:30:00+05:30">2024-05-03 00:30</time>' in page
    assert " UTC" not in page.split('id="connection-')[1]
