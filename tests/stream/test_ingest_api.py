"""POST /api/ingest/events/: one event or a batch, validated field by field,
stored before the 202, with every way in and every way to be refused."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.lake.models import Event
from tests.acting import all_of, as_user, count_of, one_of

from .conftest import as_body, ingest_key_for, signed_headers

URL = "/api/ingest/events/"
pytestmark = pytest.mark.django_db

EVENT = {
    "kind": "mood.logged",
    "occurred_at": "2026-11-30T19:04:05+01:00",
    "title": "  Feeling\tfine \x07",
    "latitude": 48.137,
    "longitude": 11.575,
    "data": {"score": 7},
    "source": "mood-app",
}


@pytest.fixture(autouse=True)
def _ingest_on_the_test_thread(settings):
    # These tests see their rows through the test's open transaction, which
    # the ingest threads' own connections cannot; test_live_feed.py and the
    # browser test go through the threads.
    settings.DATAPUNK_INGEST_THREADS = 0


def post(api, payload, **headers):
    return api.post(URL, data=as_body(payload), content_type="application/json", **headers)


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key.api_key}"}


def test_one_event_is_stored_normalized_before_the_answer(api, owner, owner_key):
    response = post(api, EVENT, **bearer(owner_key))

    assert response.status_code == 202, response.json()
    assert response.json()["written"] == 1 and response.json()["duplicate"] == 0
    event = one_of(owner, Event, pk=response.json()["event_ids"][0])
    assert event.user_id == owner.pk and event.source == "ingest"
    assert event.kind == "mood.logged"
    assert event.occurred_at.isoformat() == "2026-11-30T18:04:05+00:00"
    assert event.title == "Feeling fine"
    assert (round(event.location.y, 3), round(event.location.x, 3)) == (48.137, 11.575)
    assert event.data["score"] == 7
    assert event.data["_original"] == {"title": "  Feeling\tfine \x07"}
    assert event.data["_provenance"]["source"] == "mood-app"
    assert event.data["_provenance"]["connector"] == "ingest.api"


def test_a_batch_is_stored_and_a_second_send_is_all_duplicates(api, owner, owner_key):
    batch = [{**EVENT, "title": f"event {n}", "occurred_at": 1796148245 + n} for n in range(25)]

    first = post(api, {"events": batch}, **bearer(owner_key))
    again = post(api, batch, **bearer(owner_key))  # a bare array is a batch too

    assert first.status_code == 202 and again.status_code == 202
    assert first.json()["written"] == 25 and first.json()["received"] == 25
    assert again.json() == {**again.json(), "written": 0, "duplicate": 25, "event_ids": []}
    assert count_of(owner, Event, kind="mood.logged") == 25


def test_every_bad_field_is_listed_with_its_index_and_nothing_is_stored(api, owner, owner_key):
    batch = [
        EVENT,
        {
            "kind": "Mood",
            "occurred_at": "2026-11-30T18:04:05",
            "latitude": 91,
            "longitude": "east",
            "title": 5,
            "colour": "red",
        },
        {"occurred_at": "yesterday", "data": {"_provenance": "mine"}, "ended_at": 0},
        "not an event",
    ]

    response = post(api, batch, **bearer(owner_key))

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "3 of 4 events are invalid; nothing was stored."
    found = {(e["index"], e["field"]) for e in body["errors"]}
    assert found == {
        (1, "kind"),
        (1, "occurred_at"),
        (1, "latitude"),
        (1, "longitude"),
        (1, "title"),
        (1, "colour"),
        (2, "kind"),
        (2, "occurred_at"),
        (2, "data._provenance"),
        (3, "(event)"),
    }
    messages = {(e["index"], e["field"]): e["message"] for e in body["errors"]}
    assert "no time zone" in messages[(1, "occurred_at")]
    assert "between -90 and 90" in messages[(1, "latitude")]
    assert messages[(2, "kind")] == "is required"
    assert count_of(owner, Event) == 0


def test_a_single_bad_event_lists_fields_without_index(api, owner_key):
    response = post(
        api,
        {"kind": "a.b", "occurred_at": "2026-01-01T00:00:00Z", "latitude": 1},
        **bearer(owner_key),
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "longitude", "message": "is required when the other coordinate is given"}
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "Nothing to store"),
        (b"42", "neither an event nor a batch"),
        (b'{"events": {}}', "not a batch"),
    ],
)
def test_bodies_that_are_not_events_are_refused_with_a_message(api, owner_key, body, says):
    response = api.post(URL, data=body, content_type="application/json", **bearer(owner_key))
    assert response.status_code == 400
    assert says in response.json()["detail"]


def test_batches_and_bodies_are_capped(api, owner, owner_key):
    too_many = post(api, [EVENT] * 501, **bearer(owner_key))
    assert too_many.status_code == 400
    assert "at most 500" in too_many.json()["errors"][0]["message"]

    huge = post(api, {**EVENT, "text": "x" * (1024 * 1024)}, **bearer(owner_key))
    assert huge.status_code == 413
    assert count_of(owner, Event) == 0


def test_without_or_with_wrong_credentials_nothing_is_stored(api, owner_key, owner):
    assert post(api, EVENT).status_code == 401
    assert post(api, EVENT, HTTP_AUTHORIZATION="Bearer dpk_wrong").status_code == 401
    assert post(api, EVENT, HTTP_AUTHORIZATION="Bearer").status_code == 401
    old = owner_key
    ingest_key_for(owner)  # the earlier key stops working at once
    assert post(api, EVENT, **bearer(old)).status_code == 401
    assert count_of(owner, Event) == 0


def test_a_drf_token_and_the_session_work_too(api, owner):
    token = Token.objects.create(user=owner)
    assert post(api, EVENT, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 202
    api.force_login(owner)
    response = post(api, {**EVENT, "title": "from the browser"})
    assert response.status_code == 202
    event = one_of(owner, Event, pk=response.json()["event_ids"][0])
    assert event.data["_provenance"]["connector"] == "ingest.session"


def test_the_browser_session_posts_json_with_its_csrf_token(owner):
    # As a page's fetch() does: the session cookie, the CSRF cookie and its header.
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(owner)
    token = _get_new_csrf_string()
    browser.cookies[settings.CSRF_COOKIE_NAME] = token
    response = post(browser, {**EVENT, "title": "from a page"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 202, response.content
    assert one_of(owner, Event).title == "from a page"


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_form_body_from_the_session_is_a_clear_400(owner, content_type):
    # The CSRF check parses a form body looking for its token; the body must still be
    # readable after that (a multipart one was not: 500).
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(owner)
    token = _get_new_csrf_string()
    browser.cookies[settings.CSRF_COOKIE_NAME] = token
    response = browser.generic(
        "POST", URL, b"a=1", content_type=content_type, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    assert count_of(owner, Event) == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_the_browser_session_without_its_csrf_token_is_refused(owner, content_type):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(owner)
    browser.cookies[settings.CSRF_COOKIE_NAME] = _get_new_csrf_string()
    response = browser.post(URL, data=as_body(EVENT), content_type=content_type)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert count_of(owner, Event) == 0


def test_events_land_for_the_key_owner_only(api, owner, owner_key, outsider):
    outsider_key = ingest_key_for(outsider)
    post(api, EVENT, **bearer(outsider_key))
    post(api, {**EVENT, "title": "owner's"}, **bearer(owner_key))
    # Two requests in one test transaction: staging must not carry rows across.
    assert [(e.title, e.user_id) for e in all_of(outsider, Event)] == [
        ("Feeling fine", outsider.pk)
    ]
    assert [(e.title, e.user_id) for e in all_of(owner, Event)] == [("owner's", owner.pk)]


# Signed requests (HMAC with the per-user secret).


def test_a_signed_request_is_stored_once_and_its_replay_refused(api, owner, owner_key):
    body = as_body(EVENT)
    headers = signed_headers(owner_key, body)

    first = api.post(URL, data=body, content_type="application/json", **headers)
    replay = api.post(URL, data=body, content_type="application/json", **headers)

    assert first.status_code == 202 and first.json()["written"] == 1
    assert replay.status_code == 409
    event = one_of(owner, Event)
    assert event.data["_provenance"]["connector"] == "ingest.hmac"


@pytest.mark.parametrize(
    "padded", ["sha256= {hex}", "sha256={hex}\t", " sha256={hex} ", "sha256=  {hex}  "]
)
def test_a_replay_with_white_space_in_its_signature_is_still_a_replay(
    api, owner, owner_key, padded
):
    body = as_body(EVENT)
    headers = signed_headers(owner_key, body)
    first = api.post(URL, data=body, content_type="application/json", **headers)
    digest = headers["HTTP_X_DATAPUNK_SIGNATURE"].removeprefix("sha256=")
    headers["HTTP_X_DATAPUNK_SIGNATURE"] = padded.format(hex=digest)
    replay = api.post(URL, data=body, content_type="application/json", **headers)

    assert first.status_code == 202
    assert replay.status_code == 409
    assert count_of(owner, Event) == 1


@pytest.mark.parametrize(
    "forge",
    [
        "wrong secret",
        "body changed",
        "stale",
        "future",
        "no sha256 prefix",
        "unknown key id",
        "no signature",
        "timestamp not a number",
    ],
)
def test_forged_or_stale_signed_requests_are_refused(api, owner, owner_key, forge):
    body = as_body(EVENT)
    now = int(time.time())
    headers = signed_headers(owner_key, body)
    sent = body
    if forge == "wrong secret":
        headers = signed_headers(owner_key, body, secret="dps_guess")
    elif forge == "body changed":
        sent = as_body({**EVENT, "title": "tampered"})
    elif forge == "stale":
        headers = signed_headers(owner_key, body, timestamp=now - 11 * 60)
    elif forge == "future":
        headers = signed_headers(owner_key, body, timestamp=now + 11 * 60)
    elif forge == "no sha256 prefix":
        headers["HTTP_X_DATAPUNK_SIGNATURE"] = headers["HTTP_X_DATAPUNK_SIGNATURE"][7:]
    elif forge == "unknown key id":
        headers["HTTP_X_DATAPUNK_KEY"] = "ik_0000000000000000"
    elif forge == "no signature":
        del headers["HTTP_X_DATAPUNK_SIGNATURE"]
    elif forge == "timestamp not a number":
        headers["HTTP_X_DATAPUNK_TIMESTAMP"] = "yesterday"

    response = api.post(URL, data=sent, content_type="application/json", **headers)

    assert response.status_code == 401, response.content
    assert response.json()["detail"]
    assert count_of(owner, Event) == 0


# Managing the key.


def test_key_api_issues_shows_and_revokes(api, owner, outsider):
    assert api.post("/api/ingest/key/").status_code in (401, 403)
    api.force_login(owner)
    assert api.get("/api/ingest/key/").status_code == 404
    issued = api.post("/api/ingest/key/").json()
    assert issued["api_key"].startswith("dpk_") and issued["secret"].startswith("dps_")
    shown = api.get("/api/ingest/key/").json()
    assert shown["key_id"] == issued["key_id"] and "secret" not in shown

    api.force_login(outsider)  # another user sees only their own (none)
    assert api.get("/api/ingest/key/").status_code == 404

    api.force_login(owner)
    assert api.delete("/api/ingest/key/").status_code == 204
    api.logout()
    response = post(api, EVENT, HTTP_AUTHORIZATION=f"Bearer {issued['api_key']}")
    assert response.status_code == 401


def test_the_secret_is_sealed_at_rest(owner, owner_key):
    from django.db import connection

    with as_user(owner), connection.cursor() as cursor:
        cursor.execute("SELECT key_hash, secret_sealed FROM stream_ingestkey")
        dumped = " ".join(cursor.fetchone())
    assert owner_key.secret not in dumped and owner_key.api_key not in dumped


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+01:00"],
)
def test_a_time_with_no_utc_equivalent_is_a_400_not_a_500(api, owner, owner_key, moment):
    response = post(api, {"kind": "a.b", "occurred_at": moment}, **bearer(owner_key))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "occurred_at", "message": f"{moment!r} is not a time Datapunk can store"}
    ]
    assert count_of(owner, Event) == 0
