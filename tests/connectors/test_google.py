"""Google end to end against the fake: YouTube activities, Fit sessions and heart rate."""

from __future__ import annotations

import pytest

from apps.connectors.google import HEART_RATE_STREAM
from apps.connectors.models import Connection
from apps.connectors.tasks import sync_connection
from apps.lake.metric_models import HealthMetric
from apps.lake.models import Event
from tests.acting import all_of, count_of, one_of, refreshed
from tests.connectors.conftest import make_connection
from tests.connectors.test_connect import _connect

pytestmark = pytest.mark.django_db(transaction=True)


def _count(user, kind: str) -> int:
    return count_of(user, Event, kind=kind)


def test_youtube_and_fit_are_synced_once_and_then_only_what_is_new(owner, google):
    conn = make_connection(owner, "google", google)

    sync_connection(owner.pk, conn.pk)

    assert _count(owner, "youtube.activity") == 130
    assert _count(owner, "fit.session") == 45
    # Heart rate is a series of measurements of Fit's merged stream, not events.
    assert not _count(owner, "fit.heart_rate")
    beats = all_of(owner, HealthMetric, metric="heart_rate")
    assert len(beats) == 2500
    assert {(beat.stream, beat.unit) for beat in beats} == {(HEART_RATE_STREAM, "bpm")}
    like = one_of(owner, Event, kind="youtube.activity", data__id="act1")
    assert like.text == "like" and like.url == "https://www.youtube.com/watch?v=vid1"
    run = one_of(owner, Event, kind="fit.session", data__id="session0")
    assert (run.ended_at - run.occurred_at).total_seconds() == 40 * 60
    refreshed(conn)
    assert conn.cursor["fit_sessions_token"] == "45"

    calls = len(google.data_calls())
    sync_connection(owner.pk, conn.pk)
    assert count_of(owner, Event) == 130 + 45
    assert count_of(owner, HealthMetric, metric="heart_rate") == 2500
    second = google.data_calls()[calls:]
    assert all("publishedAfter" in r.query for r in second if "activities" in r.path)
    assert [r.query.get("pageToken") for r in second if r.path.endswith("/sessions")] == ["45"]

    google.add_activities(3)
    google.add_sessions(2)
    sync_connection(owner.pk, conn.pk)
    assert _count(owner, "youtube.activity") == 133
    assert _count(owner, "fit.session") == 47


def test_connecting_google_asks_for_offline_access(client, owner, google):
    client.force_login(owner)

    _connect(client, "google", google)

    authorize = next(r for r in google.log if r.path == "/o/oauth2/v2/auth")
    assert authorize.query["access_type"] == "offline" and authorize.query["prompt"] == "consent"
    assert (
        "https://www.googleapis.com/auth/fitness.heart_rate.read"
        in authorize.query["scope"].split()
    )
    conn = one_of(owner, Connection)
    assert conn.external_id == "108204268033311374519" and conn.refresh_token


def test_disconnect_revokes_at_google(client, owner, google):
    conn = make_connection(owner, "google", google)
    refresh = conn.refresh_token
    client.force_login(owner)

    client.post(f"/connections/{conn.pk}/disconnect/")

    assert refresh not in google.refresh
    assert any(r.path == "/revoke" and r.form["token"] == refresh for r in google.log)


def test_a_session_deleted_in_fit_arrives_as_a_deletion(owner, google):
    conn = make_connection(owner, "google", google)
    sync_connection(owner.pk, conn.pk)

    google.delete_session(3)
    sync_connection(owner.pk, conn.pk)

    sessions = [r for r in google.data_calls() if r.path.endswith("/sessions")]
    assert sessions and all(r.query.get("includeDeleted") == "true" for r in sessions)
    [deleted] = all_of(owner, Event, kind="fit.session_deleted")
    assert deleted.data["id"] == "session3"
    stored = one_of(owner, Event, kind="fit.session", data__id="session3")
    assert deleted.occurred_at == stored.occurred_at
    refreshed(conn)
    assert conn.cursor["fit_sessions_token"] == "46"


def test_heart_rate_a_watch_uploads_late_is_not_lost(owner, google):
    from datetime import UTC, datetime, timedelta

    conn = make_connection(owner, "google", google)
    sync_connection(owner.pk, conn.pk)
    assert count_of(owner, HealthMetric, metric="heart_rate") == 2500

    # Measured an hour before the first sync, uploaded after it: inside the
    # window the first sync read already.
    measured = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    google.add_heart_at(measured, 123.0)
    sync_connection(owner.pk, conn.pk)

    assert count_of(owner, HealthMetric, metric="heart_rate") == 2501
    late = one_of(owner, HealthMetric, metric="heart_rate", start=measured)
    assert late.value == 123.0
