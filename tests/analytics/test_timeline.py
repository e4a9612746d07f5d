"""The timeline API: filters, keyset pages, FTS, other users, bad input, redaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from apps.analytics.filters import EventFilters
from apps.analytics.timeline import Cursor, timeline_queryset
from apps.lake.models import Event
from apps.lake.takeout.records import EventRecord
from tests.acting import all_of, as_user, count_of

from .conftest import SAMPLE, at, store_events

pytestmark = pytest.mark.django_db


def _all_pages(client, query: str = "", limit: int = 7) -> list[dict]:
    seen: list[dict] = []
    url = f"/api/events/?limit={limit}&{query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["results"]) <= limit
        seen.extend(body["results"])
        url = body["next"]
    return seen


def test_cursor_pages_walk_every_event_once_newest_first(client, sample_owner):
    client.force_login(sample_owner)
    events = _all_pages(client)
    ids = [event["id"] for event in events]
    assert len(ids) == len(set(ids)) == count_of(sample_owner, Event)
    keys = [(event["occurred_at"], event["id"]) for event in events]
    assert keys == sorted(keys, reverse=True)


def test_ties_on_the_same_instant_are_split_by_id(client, owner):
    moment = at(3)
    store_events(
        owner, *[EventRecord(kind="test.tie", occurred_at=moment, title=f"t{i}") for i in range(5)]
    )
    client.force_login(owner)
    events = _all_pages(client, limit=2)
    assert sorted(e["title"] for e in events) == [f"t{i}" for i in range(5)]


def test_filters_by_kind_prefix_source_and_dates(client, sample_owner):
    client.force_login(sample_owner)
    watches = _all_pages(client, "kind=youtube.*")
    assert {e["kind"] for e in watches} == {"youtube.watch"}
    assert len(watches) == count_of(sample_owner, Event, kind="youtube.watch") == 4
    two = _all_pages(client, "kind=chrome.visit,keep.note")
    assert {e["kind"] for e in two} == {"chrome.visit", "keep.note"}
    assert _all_pages(client, "source=nowhere") == []
    march_5 = _all_pages(client, "start=2024-03-05&end=2024-03-05")
    assert march_5 and all(e["occurred_at"].startswith("2024-03-05") for e in march_5)


def test_full_text_search_stems_and_phrases(client, sample_owner):
    client.force_login(sample_owner)
    titles = [e["title"] for e in _all_pages(client, "q=walks")]  # "walk" stemmed
    assert titles and all("walk" in t.lower() for t in titles)
    assert [e["title"] for e in _all_pages(client, 'q="pastel de nata"')] == [
        "Searched for pastel de nata"
    ]
    assert {e["title"] for e in _all_pages(client, "q=fado")} == {
        "Searched for fado tonight",
        "Fado night",
        "Dinner?",  # "Fado night on Tuesday?" in the mail's text
    }
    assert [e["title"] for e in _all_pages(client, "q=fado -night")] == [
        "Searched for fado tonight"
    ]


def test_near_a_point_finds_located_events_only_there(client, sample_owner):
    client.force_login(sample_owner)
    # The sample's photo is at Belém (38.6916, -9.2160).
    found = _all_pages(client, "near=38.6916,-9.2160&radius=200")
    assert [e["kind"] for e in found] == ["photos.photo"]
    assert _all_pages(client, "near=0,0&radius=1000") == []


def test_another_users_events_never_show(client, sample_owner, outsider):
    store_events(
        outsider, EventRecord(kind="secret.note", occurred_at=at(1), title="outsider only")
    )
    client.force_login(sample_owner)
    assert "secret.note" not in {e["kind"] for e in _all_pages(client)}
    client.force_login(outsider)
    assert [e["title"] for e in _all_pages(client)] == ["outsider only"]


def test_no_credentials_no_events(client, sample_owner):
    assert client.get("/api/events/").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "start=yesterday",
        "end=2024-13-45",
        "start=2024-03-05&end=2024-03-01",
        "near=91,0",
        "near=abc,def",
        "near=1,2,3",
        "radius=-5&near=1,1",
        "radius=nan&near=1,1",
        "place=abc",
        "place=999999",
        "geofence=1",
        "cursor=not-a-cursor",
        "cursor=MjAyNC0wMy0wMQ",
        "limit=0",
        "limit=100000",
        "limit=ten",
        "kind=" + ",".join(["x"] * 60),
        "q=" + "a" * 600,
    ],
)
def test_bad_input_is_a_400_with_a_message(client, sample_owner, query):
    client.force_login(sample_owner)
    response = client.get(f"/api/events/?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["detail"]


def test_another_users_place_is_refused_like_a_missing_one(
    client, sample_owner, outsider, tmp_path, import_takeout
):
    from apps.lake.models import Place

    import_takeout(outsider, **SAMPLE)
    theirs = all_of(outsider, Place, "pk")[0]
    client.force_login(sample_owner)
    response = client.get(f"/api/events/?place={theirs.pk}")
    assert response.status_code == 400
    assert "no place" in response.json()["detail"]
    mine = all_of(sample_owner, Place, "pk", location__isnull=False)[0]
    assert client.get(f"/api/events/?place={mine.pk}&radius=300").status_code == 200


def test_payloads_are_redacted_in_one_call_per_page(client, sample_owner, monkeypatch):
    calls: list[int] = []

    def mask(*, user_id, payloads):
        calls.append(len(payloads))
        return [{**p, "title": "[masked]"} for p in payloads]

    monkeypatch.setattr("apps.analytics.timeline.redact_event_payloads", mask)
    client.force_login(sample_owner)
    body = client.get("/api/events/?limit=10").json()
    assert calls == [10]
    assert {e["title"] for e in body["results"]} == {"[masked]"}


def test_cursor_round_trips():
    cursor = Cursor(occurred_at=at(2, 13, 5), id=42)
    assert Cursor.decode(cursor.encode()) == cursor


def _many_events(user, count: int = 400) -> None:
    base = at(1)
    store_events(
        user,
        *[
            EventRecord(kind="test.many", occurred_at=base - dt.timedelta(hours=i), title=f"e{i}")
            for i in range(count)
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE lake_event")


def test_a_deep_page_is_an_index_range_scan_not_a_sort(owner):
    """EXPLAIN of a page far down the timeline: the keyset index is walked from the
    cursor (no Sort node over the user's rows), whatever the table's size."""
    _many_events(owner)
    queryset = timeline_queryset(
        user=owner, filters=EventFilters(), cursor=Cursor(occurred_at=at(3), id=10**9)
    )[:50]
    sql, params = queryset.query.sql_with_params()
    with as_user(owner), connection.cursor() as cursor:  # planned under the user's policy
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny test tables: judge the plan shape
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "analytics_event_user_time" in plan, plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan
