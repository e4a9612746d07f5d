"""Spotify's data exports: extended streaming history and account data.

No real Spotify export is in ../shared/realdata (SOURCES.md lists it as a gap):
the samples below follow the field lists of Spotify's "Understanding my data"
page and the ReadMeFirst PDF shipped with the extended history (ts is when the
stream stopped, in UTC; ms_played; master_metadata_*; spotify_*_uri;
reason_start/end; shuffle, skipped, offline; platform; conn_country; ip_addr).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import pytest

from apps.lake.takeout import registry, spotify
from apps.lake.takeout.records import BadRecord, EventRecord

from .streams import CountingStream

EXTENDED = "Spotify Extended Streaming History/Streaming_History_Audio_2024-2026_3.json"
ACCOUNT = "Spotify Account Data"


def extended_track(n: int, ts: str, ms_played: int = 201_000, **extra: Any) -> dict[str, Any]:
    """One stream of a track as the extended history writes it (fields in Spotify's order)."""
    return {
        "ts": ts,
        "platform": "android",
        "ms_played": ms_played,
        "conn_country": "DE",
        "ip_addr": f"192.0.2.{n % 250 + 1}",
        "master_metadata_track_name": f"Song {n}",
        "master_metadata_album_artist_name": f"Artist {n % 7}",
        "master_metadata_album_album_name": f"Album {n % 11}",
        "spotify_track_uri": f"spotify:track:track{n:05d}",
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
        "audiobook_title": None,
        "audiobook_uri": None,
        "audiobook_chapter_uri": None,
        "audiobook_chapter_title": None,
        "reason_start": "trackdone",
        "reason_end": "trackdone",
        "shuffle": False,
        "skipped": False,
        "offline": False,
        "offline_timestamp": None,
        "incognito_mode": False,
        **extra,
    }


def extended_episode(ts: str, ms_played: int) -> dict[str, Any]:
    return extended_track(
        0,
        ts,
        ms_played,
        master_metadata_track_name=None,
        master_metadata_album_artist_name=None,
        master_metadata_album_album_name=None,
        spotify_track_uri=None,
        episode_name="Episode 12: Lakes",
        episode_show_name="A Show",
        spotify_episode_uri="spotify:episode:ep12",
        reason_end="endplay",
    )


def parse(path: str, content: Any) -> list:
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    parser = registry.parser_for(PurePosixPath(path), raw[: registry.SNIFF_BYTES])
    assert parser is not None, path
    return list(parser.parse(io.BytesIO(raw), PurePosixPath(path)))


def test_an_extended_stream_is_a_play_dated_when_it_stopped_with_its_uri_as_identity():
    [play] = parse(EXTENDED, [extended_track(3, "2026-11-01T08:12:00Z", ms_played=95_500)])

    assert isinstance(play, EventRecord)
    assert play.kind == "spotify.play"
    assert play.occurred_at == datetime(2026, 11, 1, 8, 12, tzinfo=UTC)
    assert (play.title, play.text) == ("Song 3", "Artist 3")
    assert play.url == "https://open.spotify.com/track/track00003"
    assert play.identity == "spotify:track:track00003"
    assert play.data["ms_played"] == 95_500 and play.data["ip_addr"] == "192.0.2.4"
    assert play.data["reason_end"] == "trackdone" and play.data["shuffle"] is False


def test_episodes_and_video_files_and_the_older_endsong_name_are_read_too():
    episode = extended_episode("2025-02-03 04:05:06", 1_800_000)
    for path in (
        EXTENDED,
        "Spotify Extended Streaming History/Streaming_History_Video_2023-2026.json",
        "MyData/endsong_0.json",
    ):
        [play] = parse(path, [episode])
        assert (play.title, play.text) == ("Episode 12: Lakes", "A Show")
        assert play.url == "https://open.spotify.com/episode/ep12"
        assert play.occurred_at == datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_a_stream_without_uri_is_kept_and_a_broken_one_goes_to_quarantine():
    local = extended_track(1, "2026-01-01T00:00:00Z", spotify_track_uri=None)
    records = parse(
        EXTENDED, [local, {"platform": "ios", "ms_played": 3}, "nonsense", extended_track(2, "x")]
    )

    assert isinstance(records[0], EventRecord) and records[0].identity == ""
    assert records[0].url == "" and records[0].title == "Song 1"
    reasons = [r.reason for r in records[1:]]
    assert all(isinstance(r, BadRecord) for r in records[1:])
    assert reasons[0] == "Spotify stream: stream without ts"
    assert "JSON object" in reasons[1]
    assert "not an ISO 8601 timestamp" in reasons[2]


def test_the_extended_history_is_streamed_not_read_whole():
    items = [
        extended_track(n, f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z") for n in range(3000)
    ]
    raw = json.dumps(items).encode()
    assert len(raw) > 1_500_000
    stream = CountingStream(raw)
    parser = registry.parser_for(PurePosixPath(EXTENDED))
    assert parser is not None
    first = next(iter(parser.parse(io.BufferedReader(stream), PurePosixPath(EXTENDED))))

    assert first.title == "Song 0"
    assert stream.read_bytes < len(raw) // 4


def test_account_data_plays_music_podcasts_and_the_older_single_file():
    music = [
        {
            "endTime": "2025-12-31 23:59",
            "artistName": "Artist 1",
            "trackName": "Song 1",
            "msPlayed": 183_000,
        }
    ]
    podcast = [
        {
            "endTime": "2026-01-02 07:30",
            "podcastName": "A Show",
            "episodeName": "Episode 1",
            "msPlayed": 1_200_000,
        }
    ]
    [song] = parse(f"{ACCOUNT}/StreamingHistory_music_0.json", music)
    [episode] = parse(f"{ACCOUNT}/StreamingHistory_podcast_0.json", podcast)
    [older] = parse("MyData/StreamingHistory0.json", music)

    assert song.kind == episode.kind == older.kind == "spotify.play"
    assert song.occurred_at == datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    assert (song.title, song.text) == ("Song 1", "Artist 1")
    assert (episode.title, episode.text) == ("Episode 1", "A Show")
    # The dashboard reads ms_played: the account data's msPlayed is given under that name too.
    assert song.data["ms_played"] == 183_000 and song.data["msPlayed"] == 183_000
    assert older.data == song.data


def test_library_playlists_and_searches():
    library = {
        "tracks": [
            {"artist": "Artist 1", "album": "Album 1", "track": "Song 1", "uri": "spotify:track:t1"}
        ],
        "albums": [{"artist": "Artist 1", "album": "Album 1", "uri": "spotify:album:a1"}],
        "shows": [{"name": "A Show", "publisher": "Pub", "uri": "spotify:show:s1"}],
        "episodes": [{"name": "Episode 1", "show": "A Show", "uri": "spotify:episode:e1"}],
        "bannedTracks": [],
        "artists": [{"name": "Artist 2", "uri": "spotify:artist:r2"}],
        "bannedArtists": [],
        "other": ["something"],
    }
    playlists = {
        "playlists": [
            {
                "name": "Road trip",
                "lastModifiedDate": "2025-06-01",
                "items": [
                    {
                        "track": {
                            "trackName": "Song 1",
                            "artistName": "Artist 1",
                            "albumName": "Album 1",
                            "trackUri": "spotify:track:t1",
                        },
                        "episode": None,
                        "localTrack": None,
                        "audiobook": None,
                        "addedDate": "2025-05-30",
                    },
                    {"track": None, "episode": None, "addedDate": "someday"},
                ],
                "description": None,
                "numberOfFollowers": 0,
            }
        ]
    }
    searches = [
        {
            "platform": "ANDROID",
            "searchTime": "2026-03-04T05:06:07.890Z[UTC]",
            "searchQuery": "lake songs",
            "searchInteractionURIs": ["spotify:track:t1"],
        }
    ]

    saved = parse(f"{ACCOUNT}/YourLibrary.json", library)
    [added, bad] = parse(f"{ACCOUNT}/Playlist1.json", playlists)
    [search] = parse(f"{ACCOUNT}/SearchQueries.json", searches)

    assert [(r.data["section"], r.title, r.url) for r in saved] == [
        ("tracks", "Song 1", "https://open.spotify.com/track/t1"),
        ("albums", "Album 1", "https://open.spotify.com/album/a1"),
        ("shows", "A Show", "https://open.spotify.com/show/s1"),
        ("episodes", "Episode 1", "https://open.spotify.com/episode/e1"),
        ("artists", "Artist 2", "https://open.spotify.com/artist/r2"),
    ]
    assert all(r.kind == "spotify.library" and r.occurred_at is None for r in saved)
    assert added.kind == "spotify.playlist_track"
    assert (added.title, added.text) == ("Song 1", "Road trip")
    assert added.occurred_at == datetime(2025, 5, 30, tzinfo=UTC)
    assert isinstance(bad, BadRecord) and "Road trip" in bad.reason
    assert search.kind == "spotify.search" and search.title == "lake songs"
    assert search.occurred_at == datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("content", "product"),
    [
        ([extended_track(1, "2026-01-01T00:00:00Z")], "spotify.extended_history"),
        (
            [{"endTime": "2026-01-01 00:00", "artistName": "a", "trackName": "b", "msPlayed": 1}],
            "spotify.streaming_history",
        ),
        ({"tracks": [{"artist": "a", "track": "b", "uri": "spotify:track:x"}]}, "spotify.library"),
        (
            {"playlists": [{"name": "p", "lastModifiedDate": "2026-01-01", "items": []}]},
            "spotify.playlists",
        ),
        (
            [{"platform": "IOS", "searchTime": "2026-01-01T00:00:00Z", "searchQuery": "q"}],
            "spotify.searches",
        ),
    ],
)
def test_renamed_files_are_recognised_by_their_content(content, product):
    raw = json.dumps(content).encode()
    parser = registry.parser_for(PurePosixPath("Downloads/my spotify (1).json"), raw)
    assert parser is not None and parser.product == product


def test_other_json_arrays_are_not_taken_for_spotify_files():
    for content in ([{"ts": 1, "value": 2}], [{"endTime": "x"}], {"tracks": [1, 2]}):
        parser = registry.parser_for(PurePosixPath("x.json"), json.dumps(content).encode())
        assert parser is None or not parser.product.startswith("spotify."), content
    assert registry.parser_for(PurePosixPath("Music/Playlist1.json")) is None
    assert spotify.open_url("spotify:user:someone") == ""
