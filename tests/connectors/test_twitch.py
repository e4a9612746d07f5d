"""Twitch end to end against the fake: followed channels, cursor, refresh, revocation, disconnect."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.connectors.models import Connection
from apps.connectors.tasks import sync_connection
from apps.lake.models import Event
from tests.acting import all_of, count_of, refreshed
from tests.connectors.conftest import make_connection
from tests.connectors.fakes.base import CLIENT_ID

pytestmark = pytest.mark.django_db(transaction=True)


def _follows(user) -> int:
    return count_of(user, Event, kind="twitch.follow")


def test_followed_channels_are_synced_once(owner, twitch):
    conn = make_connection(owner, "twitch", twitch, external_id=twitch.user_id)

    sync_connection(owner.pk, conn.pk)

    assert _follows(owner) == 250
    calls = twitch.data_calls()
    assert len(calls) == 3 and all(c.headers["client-id"] == CLIENT_ID for c in calls)
    newest = all_of(owner, Event, "-occurred_at")[0]
    assert newest.title == "Streamer249" and newest.url == "https://www.twitch.tv/streamer249"
    assert newest.source == "twitch"

    twitch.add_follows(2)
    sync_connection(owner.pk, conn.pk)
    sync_connection(owner.pk, conn.pk)

    assert _follows(owner) == 252
    assert len(twitch.data_calls()) == 5  # one page each time: the walk stops at the cursor
    refreshed(conn)
    assert (
        conn.cursor["followed_since"] == datetime(2026, 10, 11, 23, 0, tzinfo=UTC).isoformat()
    )  # follow 251


def test_an_expired_token_is_refreshed_and_a_dead_refresh_token_asks_for_consent(owner, twitch):
    conn = make_connection(owner, "twitch", twitch, external_id=twitch.user_id)
    twitch.expire_all()
    sync_connection(owner.pk, conn.pk)
    assert _follows(owner) == 250
    refreshed(conn)
    assert conn.refresh_token in twitch.refresh  # Twitch rotates refresh tokens: the new one kept

    twitch.revoke_all()
    sync_connection(owner.pk, conn.pk)

    refreshed(conn)
    assert conn.status == Connection.Status.NEEDS_RECONSENT


def test_disconnect_revokes_the_token_at_twitch(owner, twitch, client):
    conn = make_connection(owner, "twitch", twitch, external_id=twitch.user_id)
    access = conn.access_token
    client.force_login(owner)

    client.post(f"/connections/{conn.pk}/disconnect/")

    revoke = next(r for r in twitch.log if r.path == "/oauth2/revoke")
    assert revoke.form["token"] == access and revoke.form["client_id"] == CLIENT_ID
    assert access not in twitch.access  # the fake answered 200: Twitch forgot it
    refreshed(conn)
    assert conn.status == Connection.Status.REVOKED and not conn.refresh_token_sealed
    assert conn.last_error == ""  # no "could not be told to revoke" note
