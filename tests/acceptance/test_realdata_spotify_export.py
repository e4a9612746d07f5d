"""The real recently-played response (REAL, spotify-web-api-java's captured
fixture, 2 items) keyed as the extended streaming history keys the same plays."""

from __future__ import annotations

import json
from datetime import datetime

from apps.connectors.spotify import play_record
from apps.lake.normalize import event_row
from apps.lake.takeout.spotify import extended_play_record
from tests.lake.takeout.test_spotify import extended_track

RECENTLY_PLAYED = (
    "spotify-web-api-java/src/test/fixtures/requests/data/player/"
    "GetCurrentUsersRecentlyPlayedTracksRequest.json"
)


def test_each_real_play_and_its_extended_history_stream_are_one_event(realdata):
    body = json.loads((realdata / RECENTLY_PLAYED).read_text())
    assert len(body["items"]) == 2  # SOURCES.md: 2 items

    rows = []
    for item in body["items"]:
        stopped = datetime.fromisoformat(item["played_at"].replace("Z", "+00:00"))
        stream = extended_track(
            0, stopped.strftime("%Y-%m-%dT%H:%M:%SZ"), spotify_track_uri=item["track"]["uri"]
        )
        api, export = event_row(play_record(item)), event_row(extended_play_record(stream))
        assert (api.content_hash, api.occurred_at) == (export.content_hash, export.occurred_at)
        assert api.url == export.url  # external_urls.spotify is the URI's open link
        rows.append(api)
    assert rows[0].content_hash != rows[1].content_hash
    # SOURCES.md: played_at 2023-09-22T15:23:14.294Z..15:43:33.750Z, kept to the second.
    assert sorted(r.occurred_at.isoformat() for r in rows) == [
        "2023-09-22T15:23:14+00:00",
        "2023-09-22T15:43:33+00:00",
    ]
