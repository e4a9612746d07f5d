"""Spotify's exports imported through the lake, met by what the API connector stored.

An extended-history stream and the same play from GET /me/player/recently-played
are one event, whichever arrives first, and the dashboard counts the stream's
real ms_played for it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from apps.analytics import aggregates
from apps.connectors.tasks import sync_connection
from apps.lake.models import Event, Import, ImportEntry
from tests.acting import all_of, as_user, count_of, one_of
from tests.connectors.conftest import make_connection
from tests.connectors.fakes.spotify import START
from tests.lake.conftest import make_zip
from tests.lake.takeout.test_spotify import extended_episode, extended_track

pytestmark = pytest.mark.django_db(transaction=True)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _export(tmp_path: Path, plays: range, ms_played: int) -> Path:
    """The extended history for the fake's plays ``plays`` (each stopped at its played_at),
    one podcast episode, and the account data's files."""
    streams = [
        extended_track(n, _ts(START + timedelta(minutes=4 * n)), ms_played=ms_played) for n in plays
    ]
    streams.append(extended_episode(_ts(START - timedelta(days=1)), 1_800_000))
    return make_zip(
        tmp_path / "my_spotify_data.zip",
        {
            "Spotify Extended Streaming History/Streaming_History_Audio_2026.json": json.dumps(
                streams
            ),
            "Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf": b"%PDF",
            "Spotify Account Data/StreamingHistory_music_0.json": json.dumps(
                [
                    {
                        "endTime": "2025-03-01 10:0" + str(i),
                        "artistName": "Old Artist",
                        "trackName": f"Old song {i}",
                        "msPlayed": 60_000,
                    }
                    for i in range(4)
                ]
            ),
            "Spotify Account Data/SearchQueries.json": json.dumps(
                [
                    {
                        "platform": "ANDROID",
                        "searchTime": "2026-01-01T00:00:00Z[UTC]",
                        "searchQuery": "q",
                    }
                ]
            ),
        },
    )


def _plays(user) -> int:
    return count_of(user, Event, kind="spotify.play")


def test_an_export_imported_after_a_sync_enriches_the_plays_instead_of_doubling_them(
    owner, spotify, tmp_path, import_takeout
):
    sync_connection(owner.pk, make_connection(owner, "spotify", spotify).pk)
    assert _plays(owner) == 120

    # Plays 100..119 are the API's too; the export adds 1 episode and 4 account-data plays.
    run = import_takeout(owner, _export(tmp_path, range(100, 120), ms_played=61_000))

    assert run.status == Import.Status.DONE, run.error
    assert _plays(owner) == 120 + 1 + 4
    products = {entry.path: entry.product for entry in all_of(owner, ImportEntry, import_run=run)}
    assert products["Spotify Extended Streaming History/Streaming_History_Audio_2026.json"] == (
        "spotify.extended_history"
    )
    assert products["Spotify Account Data/StreamingHistory_music_0.json"] == (
        "spotify.streaming_history"
    )
    assert count_of(owner, Event, kind="spotify.search") == 1
    play = one_of(owner, Event, kind="spotify.play", title="Song 110")
    assert play.data["ms_played"] == 61_000 and play.data["ip_addr"] == "192.0.2.111"
    assert play.data["history"][0]["track"]["id"] == "track00110"  # the API's copy kept
    assert play.occurred_at == START + timedelta(minutes=440)

    again = import_takeout(owner, _export(tmp_path, range(100, 120), ms_played=61_000))
    assert again.records_written == 0
    assert _plays(owner) == 125

    # Listening minutes of the day: the API's plays at their track length, the
    # twenty streams at their real 61 s.
    with as_user(owner):
        aggregates.aggregates_refresh(user_id=owner.pk)
        minutes = aggregates.media_minutes_per_day(user_id=owner.pk)
    [day] = [row for row in minutes if row["day"] == START.date()]
    api_seconds = sum((180_000 + n) / 1000 for n in range(100))
    assert day["minutes"] == round((api_seconds + 20 * 61) / 60, 1)


def test_a_sync_after_the_export_adds_only_the_plays_the_export_did_not_have(
    owner, spotify, tmp_path, import_takeout
):
    run = import_takeout(owner, _export(tmp_path, range(0, 110), ms_played=30_000))
    assert run.status == Import.Status.DONE, run.error
    assert _plays(owner) == 110 + 1 + 4

    sync_connection(owner.pk, make_connection(owner, "spotify", spotify).pk)

    assert _plays(owner) == 120 + 1 + 4
    kept = one_of(owner, Event, kind="spotify.play", title="Song 5")
    assert kept.data["ms_played"] == 30_000 and kept.source == "takeout"
    new = one_of(owner, Event, kind="spotify.play", title="Song 115")
    assert new.source == "spotify" and "ms_played" not in new.data
    assert START.replace(tzinfo=UTC) == one_of(owner, Event, title="Song 0").occurred_at


def test_an_interrupted_extended_history_import_resumes_where_it_stopped(
    owner, tmp_path, monkeypatch, import_takeout
):
    from django.db import OperationalError

    from apps.lake import writer

    monkeypatch.setattr(writer, "OTHER_BATCH", 100)
    archive = _export(tmp_path, range(0, 1000), ms_played=5_000)  # + 1 episode, 4 old plays
    flush = writer.BatchWriter.flush
    calls = {"n": 0}

    def flaky_flush(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # the database goes away after three committed batches
            raise OperationalError("server closed the connection unexpectedly")
        return flush(self, *args, **kwargs)

    monkeypatch.setattr(writer.BatchWriter, "flush", flaky_flush)
    with pytest.raises(OperationalError):
        import_takeout(owner, archive, status=None)
    assert _plays(owner) == 300  # three batches of the extended history, then it stopped
    assert one_of(owner, Import).status == Import.Status.RUNNING

    run = import_takeout(owner, archive, status=None)

    assert run.status == Import.Status.DONE, run.error
    assert _plays(owner) == 1000 + 1 + 4
    # The resumed run read on from the checkpoint: nothing was written twice.
    assert (run.records_written, run.records_duplicate) == (1000 + 1 + 4 + 1, 0)
