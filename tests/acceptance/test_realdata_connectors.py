"""Connector mappings on real provider payloads (SOURCES.md): Spotify's captured
recently-played response served by the fake and synced end to end, the Graph
docs' /me/events example, the Discord docs' example messages' authors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apps.connectors.discord import profile_record, snowflake_time
from apps.connectors.microsoft import event_record
from apps.connectors.tasks import sync_connection
from apps.lake.models import Event
from tests.acting import all_of, refreshed
from tests.connectors.conftest import (  # noqa: F401 - fixtures of the connector tests
    _clean_outbound_state,
    fast_outbound,
    make_connection,
    spotify,
)

SPOTIFY = Path(
    "spotify-web-api-java/src/test/fixtures/requests/data/player/GetCurrentUsersRecentlyPlayedTracksRequest.json"
)
GRAPH = Path("microsoft-graph-docs-contrib/api-reference/v1.0/api/user-list-events.response.json")
DISCORD = Path("discord-api-docs/developers/resources")


@pytest.mark.django_db(transaction=True)
def test_spotify_recently_played_real_response_syncs_end_to_end(realdata, owner, spotify):  # noqa: F811
    body = json.loads((realdata / SPOTIFY).read_text())
    assert len(body["items"]) == 2 and body["limit"] == 2
    spotify.plays = sorted(body["items"], key=lambda item: item["played_at"])
    spotify.saved, spotify.playlists, spotify.playlist_tracks = [], [], {}
    conn = make_connection(owner, "spotify", spotify)

    sync_connection(owner.pk, conn.pk)
    sync_connection(owner.pk, conn.pk)

    plays = all_of(owner, Event, "occurred_at", kind="spotify.play")
    assert len(plays) == 2
    # Stored to the second, as the extended streaming history dates the same plays
    # (apps/lake/takeout/spotify.py); the exact played_at stays in data.
    assert plays[0].occurred_at == datetime(2023, 9, 22, 15, 23, 14, tzinfo=UTC)
    assert plays[1].occurred_at == datetime(2023, 9, 22, 15, 43, 33, tzinfo=UTC)
    assert [p.data["played_at"] for p in plays] == [
        "2023-09-22T15:23:14.294Z",
        "2023-09-22T15:43:33.750Z",
    ]
    assert {p.title for p in plays} == {i["track"]["name"] for i in body["items"]}
    assert all(p.text and p.url.startswith("https://open.spotify.com/track/") for p in plays)
    assert refreshed(conn).cursor["played_after"] == body["cursors"]["after"] == "1695397413750"


def test_graph_docs_event_maps_to_one_calendar_event(realdata):
    body = json.loads((realdata / GRAPH).read_text())
    records = [event_record(item) for item in body["value"]]

    assert len(records) == 1
    event = records[0]
    assert event.kind == "calendar.event" and event.title == "Orientation "
    assert event.text == "Assembly Hall"
    # 10:00 Pacific (daylight time in April) is 17:00 UTC.
    assert event.occurred_at.astimezone(UTC) == datetime(2017, 4, 21, 17, 0, tzinfo=UTC)
    assert event.ended_at.astimezone(UTC) == datetime(2017, 4, 21, 19, 0, tzinfo=UTC)
    assert len(event.data["attendees"]) == 2


@pytest.mark.parametrize(
    "name", ["message.example-message.json", "message.example-crossposted-message.json"]
)
def test_discord_docs_user_objects_map_to_profiles(realdata, name):
    message = json.loads((realdata / DISCORD / name).read_text())
    assert message["id"] == "334385199974967042"

    record = profile_record(message["author"])

    assert record.kind == "discord.profile" and record.title == message["author"]["username"]
    assert record.occurred_at == snowflake_time(message["author"]["id"])
    # A message id's time is when it was sent: the docs' hand-made example
    # agrees with its own timestamp to the minute (17 s apart).
    sent = datetime.fromisoformat(message["timestamp"])
    assert abs(snowflake_time(message["id"]) - sent) < timedelta(minutes=1)
