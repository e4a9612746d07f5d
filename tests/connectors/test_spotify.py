"""Spotify end to end against the fake: first sync, second sync, new items, cursors."""

from __future__ import annotations

import pytest

from apps.connectors.models import Connection
from apps.connectors.tasks import sync_connection
from apps.lake.models import Event
from apps.stream.models import DeadLetter
from tests.acting import all_of, count_of, one_of, refreshed
from tests.connectors.conftest import make_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _kinds(user) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in (event.kind for event in all_of(user, Event)):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_a_full_sync_stores_every_item_and_a_second_adds_nothing(owner, spotify):
    conn = make_connection(owner, "spotify", spotify)

    sync_connection(owner.pk, conn.pk)

    assert _kinds(owner) == {
        "spotify.play": 120,
        "spotify.saved_track": 130,
        "spotify.playlist_change": 3,
        "spotify.playlist_track": 21,
    }
    refreshed(conn)
    assert conn.last_sync_at is not None and conn.last_error == ""
    assert set(conn.cursor) == {"played_after", "saved_since", "playlists"}
    play = all_of(owner, Event, "-occurred_at", kind="spotify.play")[0]
    assert play.source == "spotify"
    assert play.title == "Song 119" and play.text == "Artist 0"
    assert play.url == "https://open.spotify.com/track/track00119"
    assert play.data["track"]["id"] == "track00119"

    calls_before = len(spotify.data_calls())
    sync_connection(owner.pk, conn.pk)

    assert count_of(owner, Event) == 274
    second = spotify.data_calls()[calls_before:]
    # The cursor is used: plays are asked for after the newest one, saved
    # tracks stop at the first page, unchanged playlists are not read again.
    played = [r for r in second if r.path.endswith("recently-played")]
    assert played and all(r.query["after"] == conn.cursor["played_after"] for r in played)
    assert len([r for r in second if r.path == "/v1/me/tracks"]) == 1
    assert not [r for r in second if r.path.startswith("/v1/playlists/")]


def test_what_is_new_at_the_provider_is_all_a_later_sync_adds(owner, spotify):
    conn = make_connection(owner, "spotify", spotify)
    sync_connection(owner.pk, conn.pk)
    before = _kinds(owner)

    spotify.add_plays(3)
    spotify.add_saved(2)
    spotify.add_playlist_tracks("playlist1", 4)
    sync_connection(owner.pk, conn.pk)

    after = _kinds(owner)
    assert after["spotify.play"] == before["spotify.play"] + 3
    assert after["spotify.saved_track"] == before["spotify.saved_track"] + 2
    assert after["spotify.playlist_track"] == before["spotify.playlist_track"] + 4
    assert after["spotify.playlist_change"] == before["spotify.playlist_change"] + 1
    refreshed(conn)
    assert conn.cursor["playlists"]["playlist1"] == "snap-playlist1-1"


def test_a_malformed_item_goes_to_quarantine_and_the_rest_is_stored(owner, spotify):
    from apps.lake.models import Quarantine

    spotify.plays[5] = {"played_at": spotify.plays[5]["played_at"], "context": None}  # no track
    conn = make_connection(owner, "spotify", spotify)

    sync_connection(owner.pk, conn.pk)

    assert _kinds(owner)["spotify.play"] == 119
    bad = one_of(owner, Quarantine)
    assert "track" in bad.reason


def test_a_sync_of_a_connection_that_needs_consent_does_not_call_the_provider(owner, spotify):
    conn = make_connection(owner, "spotify", spotify, status=Connection.Status.NEEDS_RECONSENT)

    sync_connection(owner.pk, conn.pk)

    assert spotify.data_calls() == []
    assert not count_of(owner, Event) > 0


def test_an_item_with_a_broken_time_is_quarantined_without_stopping_the_sync(owner, spotify):
    from apps.lake.models import Quarantine

    spotify.plays[7]["played_at"] = "yesterday-ish"
    conn = make_connection(owner, "spotify", spotify)

    sync_connection(owner.pk, conn.pk)

    assert _kinds(owner)["spotify.play"] == 119
    assert "yesterday-ish" in one_of(owner, Quarantine).excerpt
    refreshed(conn)
    assert conn.last_error == "" and int(conn.cursor["played_after"]) > 0


def test_a_body_that_is_not_json_becomes_a_dead_letter(owner, spotify):
    from apps.stream.models import DeadLetter
    from tests.connectors.fakes.base import Reply

    spotify.trouble.append(Reply(200, None))  # an empty 200: no JSON at all
    conn = make_connection(owner, "spotify", spotify)

    sync_connection(owner.pk, conn.pk)

    letter = one_of(owner, DeadLetter)
    assert "not JSON" in letter.error
    refreshed(conn)
    assert "not JSON" in conn.last_error


def test_playlists_are_read_from_the_items_route_whose_entries_carry_item(owner, spotify):
    conn = make_connection(owner, "spotify", spotify)

    sync_connection(owner.pk, conn.pk)

    asked = {r.path for r in spotify.data_calls() if r.path.startswith("/v1/playlists/")}
    assert asked == {f"/v1/playlists/playlist{n}/items" for n in range(3)}
    entry = all_of(owner, Event, "pk", kind="spotify.playlist_track")[0]
    assert entry.title == "Song 20000" and entry.text == "Playlist 0"
    assert entry.url == "https://open.spotify.com/track/track20000"
    change = all_of(owner, Event, "pk", kind="spotify.playlist_change")[0]
    assert change.text == "7 tracks"


@pytest.mark.parametrize(
    ("status", "owner_id", "says"),
    [(404, "spotify", "Spotify-owned"), (403, "someone", "may not read it")],
)
def test_a_playlist_spotify_refuses_is_skipped_with_a_note_and_the_sync_goes_on(
    owner, spotify, client, status, owner_id, says
):
    refused = spotify.add_refused_playlist(status, owner=owner_id)
    conn = make_connection(owner, "spotify", spotify)

    sync_connection(owner.pk, conn.pk)

    refreshed(conn)
    assert conn.last_sync_at is not None and conn.last_error == ""
    assert len(conn.sync_notes) == 1
    assert f"answered {status}" in conn.sync_notes[0] and says in conn.sync_notes[0]
    # Everything else is stored: 3 readable playlists of 7, the plays, the saved tracks.
    assert _kinds(owner) == {
        "spotify.play": 120,
        "spotify.saved_track": 130,
        "spotify.playlist_change": 3,
        "spotify.playlist_track": 21,
    }
    assert refused not in conn.cursor["playlists"]  # tried again next time
    assert not count_of(owner, DeadLetter) > 0

    client.force_login(owner)
    page = client.get("/connections/").content.decode()
    assert f"answered {status}" in page

    spotify.refused.pop(refused)
    sync_connection(owner.pk, conn.pk)
    refreshed(conn)
    assert conn.sync_notes == []
    assert _kinds(owner)["spotify.playlist_track"] == 24
