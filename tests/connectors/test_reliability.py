"""Outbound reliability, end to end through syncs against the fake Spotify:
rate limits under a 429 storm, the breaker opening and recovering, dead letters replayed."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection as db

from apps.connectors.models import Connection
from apps.connectors.tasks import sync_connection
from apps.lake.models import Event
from apps.stream.breaker import CircuitBreaker
from apps.stream.models import DeadLetter
from tests.acting import all_of, as_user, count_of, one_of, refreshed
from tests.connectors.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_a_429_storm_never_pushes_the_calls_past_the_configured_rate(
    owner, outsider, make_user, spotify, settings
):
    # 4 requests/s for the whole provider (burst 4), whatever the number of
    # workers: three connections sync at once, in three threads.
    settings.DATAPUNK_RATE_LIMITS = {"spotify": {"provider": (4.0, 4.0), "connection": (4.0, 4.0)}}
    settings.DATAPUNK_OUTBOUND = {**settings.DATAPUNK_OUTBOUND, "attempts": 8}
    spotify.saved, spotify.playlists, spotify.playlist_tracks = spotify.saved[:60], [], {}
    spotify.fail_next(6, 429, {"Retry-After": "1"})  # the storm
    users = [owner, outsider, make_user("third")]
    connections = [make_connection(user, "spotify", spotify) for user in users]
    errors: list[BaseException] = []

    def run(conn: Connection) -> None:
        try:
            sync_connection(conn.user_id, conn.pk)
        except BaseException as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(conn,)) for conn in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert not errors
    # A sync that gave up (breaker, rate wait, retries) would show here, with why.
    assert [letter.error for user in users for letter in all_of(user, DeadLetter)] == []
    for user in users:
        assert count_of(user, Event, kind="spotify.play") == 120
    calls = spotify.data_calls()
    # Each sync: 3 pages of plays + 2 of saved tracks + 1 of playlists, plus the storm's retries.
    assert len(calls) == 3 * 6 + 6
    assert [c.status for c in calls].count(429) == 6
    # Never more than the bucket allows: burst 4, then 4 per second.
    assert _max_in_window([c.at for c in calls], 1.0) <= 4 + 4
    # Retry-After is honoured by every worker: after a 429 the provider hears
    # nothing for a second (requests already on the wire excepted).
    storm = [c.at for c in calls if c.status == 429]
    for at in storm:
        too_soon = [c for c in calls if at + 0.05 < c.at < at + 0.95]
        assert not too_soon, f"{len(too_soon)} calls within Retry-After of a 429"


def test_the_breaker_opens_after_repeated_failures_and_recovers(owner, spotify, settings):
    settings.DATAPUNK_OUTBOUND = {
        **settings.DATAPUNK_OUTBOUND,
        "attempts": 3,
        "breaker_threshold": 3,
        "breaker_timeout": 1.0,
    }
    breaker = CircuitBreaker("spotify", 3, 1.0)
    conn = make_connection(owner, "spotify", spotify)
    spotify.fail_next(3, 503)  # a 5xx burst: every attempt of the first sync fails

    sync_connection(owner.pk, conn.pk)

    assert breaker.state() == "open"
    assert [c.status for c in spotify.data_calls()] == [503, 503, 503]
    first = one_of(owner, DeadLetter)
    assert first.operation == "connector.sync" and first.connection_id == conn.pk
    assert "503" in first.error and first.attempts == 3

    sync_connection(owner.pk, conn.pk)  # while open: not a single call goes out

    assert len(spotify.data_calls()) == 3
    assert count_of(owner, DeadLetter) == 2
    assert "circuit open" in all_of(owner, DeadLetter, "-pk")[0].error
    refreshed(conn)
    assert "circuit open" in conn.last_error

    time.sleep(1.1)  # half-open: one probe goes out; it succeeds and closes the breaker
    assert breaker.state() == "half-open"
    sync_connection(owner.pk, conn.pk)

    assert breaker.state() == "closed"
    assert count_of(owner, Event) == 274


def test_a_failing_probe_opens_the_breaker_again(owner, spotify, settings):
    settings.DATAPUNK_OUTBOUND = {
        **settings.DATAPUNK_OUTBOUND,
        "attempts": 1,
        "breaker_threshold": 2,
        "breaker_timeout": 0.5,
    }
    breaker = CircuitBreaker("spotify", 2, 0.5)
    conn = make_connection(owner, "spotify", spotify)
    spotify.fail_next(3, 500)
    sync_connection(owner.pk, conn.pk)
    sync_connection(owner.pk, conn.pk)
    assert breaker.state() == "open"
    time.sleep(0.6)

    sync_connection(owner.pk, conn.pk)  # the probe meets the third 500

    assert breaker.state() == "open"
    assert len(spotify.data_calls()) == 3


def test_dead_letters_are_replayed_from_the_admin(
    owner, spotify, settings, admin_client, admin_access
):
    settings.DATAPUNK_OUTBOUND = {**settings.DATAPUNK_OUTBOUND, "attempts": 2}
    conn = make_connection(owner, "spotify", spotify)
    spotify.fail_next(2, 502)
    sync_connection(owner.pk, conn.pk)
    letter = one_of(owner, DeadLetter)
    assert letter.replayed_at is None and count_of(owner, Event) == 0

    admin_access(admin_client, "owner", reason="replay the owner's failed sync")
    page = admin_client.get("/admin/stream/deadletter/")
    assert page.status_code == 200 and "connector.sync" in page.content.decode()
    response = admin_client.post(
        "/admin/stream/deadletter/",
        {"action": "replay", "_selected_action": [letter.pk]},
        follow=True,
    )

    assert "1 replayed" in response.content.decode()
    refreshed(letter)
    assert letter.replayed_at is not None and letter.replay_error == ""
    assert count_of(owner, Event) == 274
    # Replaying it again is refused: the work is done.
    response = admin_client.post(
        "/admin/stream/deadletter/",
        {"action": "replay", "_selected_action": [letter.pk]},
        follow=True,
    )
    assert "already replayed" in response.content.decode()
    assert count_of(owner, Event) == 274


def test_a_replay_that_fails_again_keeps_the_letter_with_its_new_error(owner, spotify, settings):
    from apps.stream.deadletters import dead_letter_replay

    settings.DATAPUNK_OUTBOUND = {
        **settings.DATAPUNK_OUTBOUND,
        "attempts": 1,
        "breaker_threshold": 99,
    }
    conn = make_connection(owner, "spotify", spotify)
    spotify.fail_next(2, 500)
    sync_connection(owner.pk, conn.pk)
    letter = one_of(owner, DeadLetter)

    with as_user(owner):  # as the admin does, with an access to the owner's rows
        assert dead_letter_replay(dead_letter_id=letter.pk) is False

    refreshed(letter)
    assert letter.replayed_at is None and letter.attempts == 2 and "500" in letter.replay_error
    assert count_of(owner, DeadLetter) == 1
