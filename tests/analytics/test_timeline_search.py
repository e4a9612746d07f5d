"""The timeline's ``q`` is answered by the search engine (issue #17): the events with
the words and those close enough in meaning, the same set GET /api/search/ calls
matches, shown in time order and paged by cursor."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.analytics.search.services import embeddings_backfill
from tests.acting import as_user

from .search_data import LIFE, store_life

pytestmark = pytest.mark.django_db


@pytest.fixture
def life(owner):
    ids = store_life(owner.pk)
    with as_user(owner):  # as the backfill task runs it
        embeddings_backfill(user_id=owner.pk)
    return dict(zip([title for _, _, title, _, _ in LIFE], ids, strict=True))


@pytest.fixture
def api(owner):
    client = APIClient()
    client.force_login(owner)  # through the project's authentication: the user's context
    return client


def timeline(client, limit: int = 2, **params) -> list[dict]:
    """Every page of GET /api/events/ for ``params``, ``limit`` a page."""
    seen: list[dict] = []
    response = client.get("/api/events/", {"limit": limit, **params})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen.extend(body["results"])
        if not body["next"]:
            return seen
        response = client.get(body["next"])


def search_ids(client, **params) -> set[int]:
    response = client.get("/api/search/", {"limit": 50, **params})
    assert response.status_code == 200, response.content
    return {hit["id"] for hit in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("power company invoice", "Your electricity bill for August"),  # no word in common
        ("teeth", "Dentist appointment"),
        ("chisel", "Searched for how to sharpen a chisel"),  # the word itself
    ],
)
def test_the_timeline_shows_what_search_calls_a_match(api, life, query, expected):
    events = timeline(api, q=query)
    ids = [event["id"] for event in events]
    assert life[expected] in ids
    assert set(ids) == search_ids(api, q=query)
    keys = [(event["occurred_at"], event["id"]) for event in events]
    assert keys == sorted(keys, reverse=True)  # time order, each once across pages
    assert len(ids) == len(set(ids))


def test_other_filters_narrow_the_meaning_matches_too(api, life):
    bill = life["Your electricity bill for August"]
    assert bill in [e["id"] for e in timeline(api, q="power company invoice", kind="gmail.message")]
    assert bill not in [e["id"] for e in timeline(api, q="power company invoice", kind="keep.note")]
    assert timeline(api, q="power company invoice", kind="gmail.message", start="2024-10-01") == []


def test_nothing_close_is_nothing_on_the_timeline(api, life):
    assert search_ids(api, q="quantum chromodynamics lattice gauge") == set()
    assert timeline(api, q="quantum chromodynamics lattice gauge") == []
