"""Spotify's own data exports (spotify.com → Account → Privacy → "Download your data").

Two packages, requested separately:

- **Account data** (about a year back): ``StreamingHistory_music_N.json`` and
  ``StreamingHistory_podcast_N.json`` (older packages: ``StreamingHistoryN.json``),
  arrays of ``{endTime: "2023-01-31 18:04", artistName | podcastName,
  trackName | episodeName, msPlayed}`` in UTC to the minute; ``YourLibrary.json``
  (saved tracks, albums, shows, episodes, artists: no dates); ``Playlist1.json``
  (``{"playlists": [{name, lastModifiedDate, items: [{track, episode,
  localTrack, addedDate}]}]}``); ``SearchQueries.json``.
- **Extended streaming history** (the whole life of the account):
  ``Streaming_History_Audio_<years>_N.json`` and ``Streaming_History_Video_*.json``
  (older packages: ``endsong_N.json``), arrays of one object per stream with
  ``ts`` (UTC, when the stream stopped), ``ms_played``, the track's, episode's
  or audiobook chapter's names and URI, ``reason_start``/``reason_end``,
  ``shuffle``, ``skipped``, ``offline``, ``platform``, ``conn_country`` and
  ``ip_addr`` (PII: kept in ``data``, flagged by the PII guard).

Every file is one large array: streamed item by item. Files are recognised by
name and, renamed, by their first keys.

One play, three records. What the timestamps mean (Spotify's "Understanding my
data" page and the Web API reference): the extended history's ``ts`` is "when
the track stopped playing" (UTC, to the second); the account data's ``endTime``
is the same moment to the minute ("date and time of when the stream ended");
the API's ``played_at`` (GET /me/player/recently-played, milliseconds) is
documented only as "the date and time the track was played"; a play is listed
there once it has ended, and its ``played_at`` is that end, not its start. Each is stored at that stop time, to the
second (``play_time``). They come from separate logs, so the writer matches
them with a tolerance rather than by an equal key (apps/lake/batch/events.py, _SPOTIFY_*):

- API and stream: the same track or episode URI, stop times at most 10 s
  apart (a track cannot end twice in 10 s unless skipped at once; two streams
  are never matched with each other, however close);
- account data and stream: the same track or episode name and the same
  milliseconds played (both are that stream's own figure), ``ts`` within a
  minute of ``endTime`` either way.

The stream wins: arriving first it makes the API's and the account data's copy
add nothing; arriving later it takes over their row (its time, its real
``ms_played``, their fields kept in ``data["history"]``). The API's play and
the account data's play of one listening (no URI, no milliseconds to compare)
are not matched with each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from . import jsonstream
from .fields import parse_iso
from .paths import head_text
from .records import BadRecord, EventRecord, Parser, Record, excerpt_of

PLAY_KIND = "spotify.play"
# Every play record says so: the writer matches plays of the three sources with
# a tolerance (apps/lake/batch/events.py, _SPOTIFY_STREAM_TAKES_OVER and _SPOTIFY_PLAY_KNOWN).
PLAY_MATCH = "spotify_play"

_EXTENDED_NAME = re.compile(r"(streaming_history_(audio|video)_.*|endsong_\d+)\.json")
_ACCOUNT_HISTORY_NAME = re.compile(r"streaminghistory(_(music|podcast))?_?\d+\.json")

# The first key of the first item; the second pattern is a key no other export has.
_EXTENDED_SNIFF = re.compile(r'\[\s*\{\s*"ts"\s*:')
_ACCOUNT_HISTORY_SNIFF = re.compile(r'\[\s*\{\s*"endTime"\s*:')
_LIBRARY_SNIFF = re.compile(r'\{\s*"tracks"\s*:\s*\[')
_PLAYLISTS_SNIFF = re.compile(r'\{\s*"playlists"\s*:\s*\[')
_SEARCH_SNIFF = re.compile(r'\[\s*\{\s*"(platform|searchTime|searchQuery)"\s*:')

# URI kinds Spotify's web player opens at open.spotify.com/<kind>/<id>.
_OPENABLE = frozenset({"track", "episode", "album", "artist", "show", "playlist", "chapter"})


def open_url(uri: Any) -> str:
    """``spotify:track:ID`` as the link Spotify's own API gives (external_urls.spotify)."""
    parts = uri.split(":") if isinstance(uri, str) else []
    if len(parts) == 3 and parts[0] == "spotify" and parts[1] in _OPENABLE and parts[2]:
        return f"https://open.spotify.com/{parts[1]}/{parts[2]}"
    return ""


def play_time(moment: datetime) -> datetime:
    """The time a play is stored at: when it stopped, to the second.

    The API's ``played_at`` has milliseconds, the export's ``ts`` whole seconds;
    both paths store the whole second so the same play meets itself.
    """
    return moment.astimezone(UTC).replace(microsecond=0)


def play_identity(uri: str) -> str:
    """What makes one play, besides its kind and time: the track's or episode's URI."""
    return uri


# -- Extended streaming history ---------------------------------------------------------------


def _extended_matches(path: PurePosixPath) -> bool:
    return _EXTENDED_NAME.fullmatch(path.name.casefold()) is not None


def _extended_sniff(head: bytes) -> bool:
    text = head_text(head)
    return _EXTENDED_SNIFF.match(text) is not None and '"ms_played"' in text


def extended_play_record(item: Any) -> EventRecord:
    """One stream; ValueError with the reason when it cannot be read."""
    if not isinstance(item, dict):
        raise ValueError("a stream is a JSON object; this item is something else")
    if "ts" not in item:
        raise ValueError("stream without ts")
    uri = (
        item.get("spotify_track_uri")
        or item.get("spotify_episode_uri")
        or item.get("audiobook_chapter_uri")
        or item.get("audiobook_uri")
        or ""
    )
    title = (
        item.get("master_metadata_track_name")
        or item.get("episode_name")
        or item.get("audiobook_chapter_title")
        or item.get("audiobook_title")
        or ""
    )
    by = item.get("master_metadata_album_artist_name") or item.get("episode_show_name") or ""
    if not isinstance(item.get("ms_played"), int | float):
        raise ValueError("stream without a number in ms_played")
    return EventRecord(
        kind=PLAY_KIND,
        occurred_at=play_time(parse_iso(item["ts"])),
        title=str(title),
        text=str(by),
        url=open_url(uri),
        data=item,
        # A local file or a stream Spotify lost the metadata of has no URI: it
        # is known by all its fields, as any other item.
        identity=play_identity(uri) if isinstance(uri, str) and uri else "",
        # The API's copy of a play has no ms_played (version 0): this one supersedes it.
        version_key="ms_played" if uri else "",
        history_format=PLAY_MATCH,
    )


def _parse_extended(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    yield from _each(stream, "item", extended_play_record, "stream")


# -- Account data -------------------------------------------------------------------------------


def _account_history_matches(path: PurePosixPath) -> bool:
    return _ACCOUNT_HISTORY_NAME.fullmatch(path.name.casefold()) is not None


def _account_history_sniff(head: bytes) -> bool:
    text = head_text(head)
    return _ACCOUNT_HISTORY_SNIFF.match(text) is not None and '"msPlayed"' in text


def account_play_record(item: Any) -> EventRecord:
    """One play of the account data's streaming history (to the minute, no URI).

    Known by its fields: the same play in the next year's package is one row.
    The extended history's stream of it is the same row (same name, same
    msPlayed, ``ts`` within a minute of ``endTime``: see the module's docstring);
    the API's copy is not matched (no URI here, no milliseconds there).
    """
    if not isinstance(item, dict):
        raise ValueError("a play is a JSON object; this item is something else")
    if not isinstance(item.get("msPlayed"), int | float):
        raise ValueError("play without a number in msPlayed")
    return EventRecord(
        kind=PLAY_KIND,
        occurred_at=parse_iso(item["endTime"]),
        title=str(item.get("trackName") or item.get("episodeName") or ""),
        text=str(item.get("artistName") or item.get("podcastName") or ""),
        # The dashboard's listening minutes read ms_played: the account data says msPlayed.
        data={**item, "ms_played": item["msPlayed"]},
        history_format=PLAY_MATCH,
    )


def _parse_account_history(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    yield from _each(stream, "item", account_play_record, "play")


def _library_sniff(head: bytes) -> bool:
    text = head_text(head)
    return _LIBRARY_SNIFF.match(text) is not None and '"uri"' in text


_LIBRARY_SECTIONS = ("tracks", "albums", "shows", "episodes", "artists", "bannedTracks")


def library_record(section: str, item: Any) -> EventRecord:
    """A saved track, album, show, episode or artist; the library says not since when."""
    if not isinstance(item, dict):
        raise ValueError("a library entry is a JSON object; this one is something else")
    title = item.get("track") or item.get("album") or item.get("name") or ""
    by = item.get("artist") or item.get("publisher") or item.get("show") or ""
    return EventRecord(
        kind="spotify.library",
        occurred_at=None,
        title=str(title),
        text=str(by),
        url=open_url(item.get("uri")),
        data={"section": section, **item},
    )


def _parse_library(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for section, items in jsonstream.iter_kvitems(stream, ""):
        if section not in _LIBRARY_SECTIONS or not isinstance(items, list):
            continue  # "other" and future sections: names only, nothing to date or link
        for item in items:
            try:
                yield library_record(section, item)
            except ValueError as exc:
                yield BadRecord(reason=f"Spotify library: {exc}", excerpt=excerpt_of(item))


def _playlists_sniff(head: bytes) -> bool:
    text = head_text(head)
    return _PLAYLISTS_SNIFF.match(text) is not None and '"lastModifiedDate"' in text


def playlist_item_records(playlist: Any) -> Iterator[Record]:
    """The entries of one playlist, each dated when it was added (a day)."""
    if not isinstance(playlist, dict):
        yield BadRecord("a playlist is a JSON object; this one is something else", "")
        return
    name = str(playlist.get("name") or "")
    for item in playlist.get("items") or []:
        try:
            if not isinstance(item, dict):
                raise ValueError("entry is not a JSON object")
            entry = item.get("track") or item.get("episode") or item.get("localTrack") or {}
            if not isinstance(entry, dict):
                entry = {}
            yield EventRecord(
                kind="spotify.playlist_track",
                occurred_at=parse_iso(item["addedDate"]) if item.get("addedDate") else None,
                title=str(entry.get("trackName") or entry.get("episodeName") or ""),
                text=name,
                url=open_url(entry.get("trackUri") or entry.get("episodeUri")),
                data={"playlist": {"name": name}, **item},
            )
        except ValueError as exc:
            yield BadRecord(reason=f"Spotify playlist “{name}”: {exc}", excerpt=excerpt_of(item))


def _parse_playlists(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for playlist in jsonstream.iter_items(stream, "playlists.item"):
        yield from playlist_item_records(playlist)


def _search_sniff(head: bytes) -> bool:
    text = head_text(head)
    return _SEARCH_SNIFF.match(text) is not None and '"searchQuery"' in text


def search_record(item: Any) -> EventRecord:
    if not isinstance(item, dict):
        raise ValueError("a search is a JSON object; this item is something else")
    # "2023-01-31T18:04:05.123Z[UTC]": Java's ZonedDateTime text, zone in brackets.
    stamp = str(item.get("searchTime") or "").split("[", 1)[0]
    return EventRecord(
        kind="spotify.search",
        occurred_at=parse_iso(stamp),
        title=str(item.get("searchQuery") or ""),
        text=str(item.get("platform") or ""),
        data=item,
    )


def _parse_searches(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    yield from _each(stream, "item", search_record, "search")


# -- shared -------------------------------------------------------------------------------------


def _each(
    stream: BinaryIO, prefix: str, read: Callable[[Any], EventRecord], noun: str
) -> Iterator[Record]:
    for item in jsonstream.iter_items(stream, prefix):
        try:
            yield read(item)
        except (KeyError, ValueError) as exc:
            reason = f"no {exc.args[0]}" if isinstance(exc, KeyError) else str(exc)
            yield BadRecord(reason=f"Spotify {noun}: {reason}", excerpt=excerpt_of(item))


def _named(name: str) -> Callable[[PurePosixPath], bool]:
    def matches(path: PurePosixPath) -> bool:
        return path.name.casefold() == name

    return matches


def _playlist_file(path: PurePosixPath) -> bool:
    # "Playlist1.json", "Playlist2.json"... in the account data; the name alone
    # is too common for other folders: only beside the other Spotify files.
    parent = path.parent.name.casefold()
    return re.fullmatch(r"playlist\d+\.json", path.name.casefold()) is not None and (
        "spotify" in parent or parent in ("mydata", "")
    )


PARSERS: list[Parser] = [
    Parser("spotify.extended_history", _extended_matches, _parse_extended, _extended_sniff),
    Parser(
        "spotify.streaming_history",
        _account_history_matches,
        _parse_account_history,
        _account_history_sniff,
    ),
    Parser("spotify.library", _named("yourlibrary.json"), _parse_library, _library_sniff),
    Parser("spotify.playlists", _playlist_file, _parse_playlists, _playlists_sniff),
    Parser("spotify.searches", _named("searchqueries.json"), _parse_searches, _search_sniff),
]
