"""Spotify: recently played, saved tracks, playlist changes (Web API, OAuth 2)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

from apps.connectors.base import (
    ApiSession,
    Connector,
    SyncPage,
    cursor_time,
    mapped,
    parse_time,
)
from apps.lake.takeout import spotify as spotify_export
from apps.lake.takeout.records import EventRecord
from apps.stream.outbound import ClientError

API = "https://api.spotify.com/v1"
PAGE = 50
# Bounds one sync's work; the cursor carries on where it stopped next time.
MAX_PAGES = 200

# Fields that change while the item stays the same (a track's popularity,
# markets): kept as first seen, not part of the event's identity.
TRACK_COPY_FIELDS = (
    "track.popularity",
    "track.available_markets",
    "track.album.available_markets",
    "track.is_playable",
)


def _artists(track: dict[str, Any]) -> str:
    return ", ".join(a["name"] for a in track.get("artists") or [] if a.get("name"))


def _track_url(track: dict[str, Any]) -> str:
    return (track.get("external_urls") or {}).get("spotify", "")


def play_record(item: dict[str, Any]) -> EventRecord:
    """One item of GET /me/player/recently-played (a play history object).

    Matched to the extended streaming history's stream of the same play (the
    URI, stop times within 10 s: apps/lake/takeout/spotify.py), so an export
    imported before or after this sync adds no second row.
    """
    track = item["track"]
    played_at = parse_time(item["played_at"])
    if played_at is None:
        raise ValueError("play without played_at")
    uri = track.get("uri") or ""
    return EventRecord(
        kind=spotify_export.PLAY_KIND,
        occurred_at=spotify_export.play_time(played_at),
        title=track["name"],
        text=_artists(track),
        url=_track_url(track),
        data=item,
        copy_fields=TRACK_COPY_FIELDS,
        identity=spotify_export.play_identity(uri) if uri else "",
        history_format=spotify_export.PLAY_MATCH,
    )


def saved_track_record(item: dict[str, Any]) -> EventRecord:
    """One item of GET /me/tracks (a saved track object)."""
    track = item["track"]
    return EventRecord(
        kind="spotify.saved_track",
        occurred_at=parse_time(item["added_at"]),
        title=track["name"],
        text=_artists(track),
        url=_track_url(track),
        data=item,
        copy_fields=TRACK_COPY_FIELDS,
    )


def _playlist_entry(item: dict[str, Any]) -> dict[str, Any]:
    # Since February 2026 an entry carries its track or episode as `item`;
    # `track` is what the removed /tracks route (and older stored data) said.
    return item.get("item") or item.get("track") or {}


def _playlist_size(playlist: dict[str, Any]) -> Any:
    # Playlists say `items` since February 2026, `tracks` before.
    return (playlist.get("items") or playlist.get("tracks") or {}).get("total", "?")


def playlist_track_record(playlist: dict[str, Any], item: dict[str, Any]) -> EventRecord:
    """One entry of GET /playlists/{id}/items; very old playlists have no added_at."""
    track = _playlist_entry(item)
    return EventRecord(
        kind="spotify.playlist_track",
        occurred_at=parse_time(item.get("added_at")),
        title=track.get("name") or "",
        text=playlist.get("name") or "",
        url=_track_url(track),
        data={"playlist": {"id": playlist["id"], "name": playlist.get("name")}, **item},
        copy_fields=TRACK_COPY_FIELDS
        + tuple(f.replace("track.", "item.") for f in TRACK_COPY_FIELDS),
    )


def playlist_snapshot_record(playlist: dict[str, Any], seen_at: datetime) -> EventRecord:
    """A playlist whose snapshot_id changed since the last sync (or is new)."""
    return EventRecord(
        kind="spotify.playlist_change",
        occurred_at=seen_at,
        title=playlist["name"],
        text=f"{_playlist_size(playlist)} tracks",
        url=(playlist.get("external_urls") or {}).get("spotify", ""),
        data=playlist,
    )


class SpotifyConnector(Connector):
    provider = "spotify"
    label = "Spotify"
    source = "spotify"
    scopes = (
        "user-read-recently-played",
        "user-library-read",
        "playlist-read-private",
        "playlist-read-collaborative",
    )
    token_url = "https://accounts.spotify.com/api/token"
    client_auth = "basic"
    app_console = "https://developer.spotify.com/dashboard"
    export_url = "https://www.spotify.com/account/privacy/"
    export_holds = (
        "“Extended streaming history” (every play since the account began, with the time "
        "played) and “Account data” (a year of plays, library, playlists, searches); "
        "the API keeps only your last 50 plays"
    )

    def pages(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        yield from self._recently_played(api, cursor)
        yield from self._saved_tracks(api, cursor)
        yield from self._playlists(api, cursor)

    def _recently_played(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        # `after` (Unix ms) returns plays strictly after it: the stored cursor.
        after = cursor.get("played_after")
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE}
            if after:
                params["after"] = after
            body = api.get(f"{API}/me/player/recently-played", params)
            items = body.get("items") or []
            if not items:
                break
            times = [cursor_time(i.get("played_at")) for i in items if isinstance(i, dict)]
            newest = max((int(t.timestamp() * 1000) for t in times if t), default=0)
            given = str((body.get("cursors") or {}).get("after") or "")
            before = str(after or "")
            after = str(
                max(
                    newest,
                    int(given) if given.isdecimal() else 0,
                    int(before) if before.isdecimal() else 0,
                )
            )
            cursor["played_after"] = after
            yield SyncPage(mapped(items, play_record), dict(cursor))
            if not body.get("next"):
                break

    def _saved_tracks(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        # Newest first, by offset. Walk down to what the last sync saw; the
        # cursor moves only once the walk is complete, so a sync that stops
        # half-way walks again next time (the lake drops the repeats).
        since = cursor_time(cursor.get("saved_since"))
        newest = since
        url: str | None = f"{API}/me/tracks"
        params: dict[str, Any] | None = {"limit": PAGE, "offset": 0}
        for _ in range(MAX_PAGES):
            if not url:
                break
            body = api.get(url, params)
            items = body.get("items") or []
            fresh = [
                i
                for i in items
                if since is None or (cursor_time(i.get("added_at")) or since) > since
            ]
            for item in fresh:
                added = cursor_time(item.get("added_at"))
                if added and (newest is None or added > newest):
                    newest = added
            done = len(fresh) < len(items) or not body.get("next")
            if done and newest:
                cursor["saved_since"] = newest.isoformat()
            yield SyncPage(mapped(fresh, saved_track_record), dict(cursor))
            if done:
                break
            url, params = body["next"], None

    def _playlists(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        # A playlist's snapshot_id changes with every edit: only those read again.
        known: dict[str, str] = dict(cursor.get("playlists") or {})
        url: str | None = f"{API}/me/playlists"
        params: dict[str, Any] | None = {"limit": PAGE, "offset": 0}
        changed: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if not url:
                break
            body = api.get(url, params)
            for playlist in body.get("items") or []:
                if playlist and known.get(playlist.get("id")) != playlist.get("snapshot_id"):
                    changed.append(playlist)
            url, params = body.get("next"), None
        seen_at = datetime.now(UTC)
        for playlist in changed:
            records = mapped([playlist], partial(playlist_snapshot_record, seen_at=seen_at))
            tracks_url: str | None = f"{API}/playlists/{playlist['id']}/items"
            params = {"limit": 100, "offset": 0}
            try:
                for _ in range(MAX_PAGES):
                    if not tracks_url:
                        break
                    body = api.get(tracks_url, params)
                    records += mapped(
                        body.get("items") or [], partial(playlist_track_record, playlist)
                    )
                    tracks_url, params = body.get("next"), None
            except ClientError as exc:
                if exc.status not in (403, 404):
                    raise
                # Spotify-owned and algorithmic playlists answer 404 to new apps,
                # others' private ones 403: this playlist is skipped (its snapshot
                # is not recorded, so it is tried again), the sync goes on.
                yield SyncPage(
                    [],
                    dict(cursor),
                    notes=[
                        f"Playlist “{playlist.get('name') or playlist['id']}” was skipped: "
                        f"Spotify answered {exc.status} "
                        + (
                            "(Spotify-owned playlists are not readable by apps in Development Mode)"
                            if exc.status == 404
                            else "(this app may not read it)"
                        )
                    ],
                )
                continue
            known[playlist["id"]] = playlist["snapshot_id"]
            cursor["playlists"] = dict(known)
            yield SyncPage(records, dict(cursor))
