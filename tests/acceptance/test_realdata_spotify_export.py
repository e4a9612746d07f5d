"""The real recently-played response (REAL, spotify-web-api-java's captured
fixture, 2 items) keyed as the extended streaming history keys the same plays;
stored, the same plays from the extended history (a few seconds off) and from
the account data (to the minute) are one event each."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from apps.analytics import aggregates
from apps.connectors.spotify import play_record
from apps.core.db.context import user_context
from apps.lake.models import Event, Import
from apps.lake.normalize import event_row
from apps.lake.pipeline import records_store
from apps.lake.takeout.spotify import extended_play_record
from tests.acting import takeout_import
from tests.lake.conftest import make_zip
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


# -- stored: the same plays seconds apart, and the account data's minute ------------------
def _api_plays(realdata) -> list[dict]:
    return json.loads((realdata / RECENTLY_PLAYED).read_text())["items"]


def _at(item: dict, seconds: float) -> str:
    moment = datetime.fromisoformat(item["played_at"].replace("Z", "+00:00"))
    return (moment + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _store_api(owner, items) -> None:
    with user_context(owner.pk):
        records_store(user_id=owner.pk, source="spotify", records=[play_record(i) for i in items])


def _import(owner, tmp_path, name: str, members: dict) -> None:
    archive = make_zip(tmp_path / name, {k: json.dumps(v) for k, v in members.items()})
    run = takeout_import(owner, archive)
    assert run.status == Import.Status.DONE, run.error


def _plays(owner) -> list[Event]:
    with user_context(owner.pk):
        return list(Event.objects.filter(user=owner, kind="spotify.play").order_by("occurred_at"))


EXTENDED = "Spotify Extended Streaming History/Streaming_History_Audio_2023.json"
ACCOUNT = "Spotify Account Data/StreamingHistory_music_0.json"


def _streams(items) -> list[dict]:
    """The two real plays as the extended history logs them: a few seconds off
    the API's played_at (another log), plus the first track again 40 s after,
    skipped at once (a play of its own)."""
    solitary, cappadocia = items
    return [
        extended_track(
            1, _at(solitary, 3), ms_played=201_000, spotify_track_uri=solitary["track"]["uri"]
        ),
        extended_track(
            2, _at(cappadocia, -4), ms_played=150_000, spotify_track_uri=cappadocia["track"]["uri"]
        ),
        extended_track(
            3,
            _at(solitary, 40),
            ms_played=2_500,
            spotify_track_uri=solitary["track"]["uri"],
            reason_end="fwdbtn",
            skipped=True,
        ),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("api_first", [True, False])
def test_a_stream_and_the_api_play_seconds_apart_are_one_event(
    owner, realdata, tmp_path, api_first
):
    items = _api_plays(realdata)
    if api_first:
        _store_api(owner, items)
    _import(owner, tmp_path, "extended.zip", {EXTENDED: _streams(items)})
    if not api_first:
        _store_api(owner, items)

    plays = _plays(owner)
    assert len(plays) == 3  # two listenings met their API copy; the skip 40 s later is its own
    by_ms = {p.data["ms_played"]: p for p in plays}
    assert set(by_ms) == {201_000, 150_000, 2_500}
    # The stream's time and fields win, whichever came first.
    assert by_ms[201_000].occurred_at.isoformat() == "2023-09-22T15:43:36+00:00"
    assert by_ms[150_000].occurred_at.isoformat() == "2023-09-22T15:23:10+00:00"
    if api_first:  # the API's copy kept in the stream's history
        assert by_ms[201_000].data["history"][0]["played_at"] == "2023-09-22T15:43:33.750Z"
    assert "history" not in by_ms[2_500].data

    # Neither path adds anything a second time.
    _store_api(owner, items)
    _import(owner, tmp_path, "again.zip", {EXTENDED: _streams(items)})
    assert len(_plays(owner)) == 3

    # The dashboard's listening minutes count the streams' real ms_played, once.
    with user_context(owner.pk):
        aggregates.aggregates_refresh(user_id=owner.pk)
        [day] = aggregates.media_minutes_per_day(user_id=owner.pk)
    assert day["minutes"] == round((201_000 + 150_000 + 2_500) / 60_000, 1)


def _account_plays(items) -> list[dict]:
    """The account data's copy of the same listenings: endTime to the minute (UTC)."""
    solitary, cappadocia = items
    return [
        {
            "endTime": "2023-09-22 15:43",
            "artistName": "Artist 1",
            "trackName": "Song 1",
            "msPlayed": 201_000,
        },
        {
            "endTime": "2023-09-22 15:23",
            "artistName": "Artist 2",
            "trackName": "Song 2",
            "msPlayed": 150_000,
        },
        # Same name and minute, other milliseconds: another play.
        {
            "endTime": "2023-09-22 15:43",
            "artistName": "Artist 1",
            "trackName": "Song 1",
            "msPlayed": 9_000,
        },
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("account_first", [True, False])
def test_the_account_datas_play_and_its_stream_are_one_event(
    owner, realdata, tmp_path, account_first
):
    items = _api_plays(realdata)
    streams = _streams(items)[:2]
    first, second = (ACCOUNT, EXTENDED) if account_first else (EXTENDED, ACCOUNT)
    content = {ACCOUNT: _account_plays(items), EXTENDED: streams}
    _import(owner, tmp_path, "first.zip", {first: content[first]})
    _import(owner, tmp_path, "second.zip", {second: content[second]})

    plays = _plays(owner)
    assert len(plays) == 3
    merged = [p for p in plays if "ts" in p.data]
    assert sorted(p.data["ms_played"] for p in merged) == [150_000, 201_000]
    assert all(p.url.startswith("https://open.spotify.com/track/") for p in merged)
    if account_first:
        assert merged[1].data["history"][0]["endTime"] == "2023-09-22 15:43"
    [alone] = [p for p in plays if "ts" not in p.data]
    assert alone.data["msPlayed"] == 9_000

    # Both packages in one zip, imported again: nothing new.
    _import(owner, tmp_path, "both.zip", content)
    assert len(_plays(owner)) == 3
