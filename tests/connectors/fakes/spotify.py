"""Spotify Web API as documented: /api/token (Basic client auth), /v1/me,
recently-played with after/before cursors, saved tracks and playlists with
offset paging and snapshot_id.

Playlists as Development Mode apps see them since the February 2026 changes
(developer.spotify.com/documentation/web-api/references/changes/february-2026
and the migration guide): GET /playlists/{id}/items with entries carrying
``item``, playlists saying ``items``; the removed GET /playlists/{id}/tracks
answers 403; Spotify-owned (editorial, algorithmic) playlists answer 404.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.fakes.base import FakeProvider, Reply, Request

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _played_ms(play: dict[str, Any]) -> int:
    try:
        return _ms(datetime.fromisoformat(play["played_at"]))
    except ValueError:  # a test broke this item's time on purpose: served first
        return 1


def track(n: int) -> dict[str, Any]:
    return {
        "id": f"track{n:05d}",
        "name": f"Song {n}",
        "type": "track",
        "uri": f"spotify:track:track{n:05d}",
        "duration_ms": 180000 + n,
        "popularity": n % 100,
        "available_markets": ["DE", "FR", "US"],
        "artists": [{"id": f"artist{n % 7}", "name": f"Artist {n % 7}", "type": "artist"}],
        "album": {"id": f"album{n % 11}", "name": f"Album {n % 11}", "available_markets": ["DE"]},
        "external_urls": {"spotify": f"https://open.spotify.com/track/track{n:05d}"},
    }


class FakeSpotify(FakeProvider):
    authorize_path = "/authorize"
    token_path = "/api/token"
    revoke_path = "/never-revoke"  # Spotify offers no revocation endpoint
    rotate_refresh = False  # Spotify usually keeps the refresh token

    def __init__(self, *, plays: int = 0, saved: int = 0, playlists: int = 0) -> None:
        super().__init__()
        self.user_id = "fakeuser"
        self.plays: list[dict[str, Any]] = []
        self.saved: list[dict[str, Any]] = []  # newest first, as the API lists them
        self.playlists: list[dict[str, Any]] = []
        self.playlist_tracks: dict[str, list[dict[str, Any]]] = {}
        # Listed in /me/playlists but refused on /items with this status.
        self.refused: dict[str, int] = {}
        self.add_plays(plays)
        self.add_saved(saved)
        for _ in range(playlists):
            self.add_playlist(tracks=7)
        self.route("GET", "/v1/me", self._me)
        self.route("GET", "/v1/me/player/recently-played", self._recently_played)
        self.route("GET", "/v1/me/tracks", self._tracks)
        self.route("GET", "/v1/me/playlists", self._playlists)
        self.route("GET", r"/v1/playlists/(?P<id>[^/]+)/items", self._playlist_items)
        self.route("GET", r"/v1/playlists/(?P<id>[^/]+)/tracks", self._removed_route)

    # -- data ------------------------------------------------------------------
    def add_plays(self, count: int) -> None:
        for _ in range(count):
            n = len(self.plays)
            self.plays.append(
                {
                    "track": track(n),
                    "played_at": _iso(START + timedelta(minutes=4 * n)),
                    "context": {"type": "playlist", "uri": "spotify:playlist:p0"},
                }
            )

    def add_saved(self, count: int) -> None:
        for _ in range(count):
            n = len(self.saved)
            item = {"added_at": _iso(START + timedelta(hours=n)), "track": track(10000 + n)}
            self.saved.insert(0, item)

    def add_playlist(self, tracks: int) -> str:
        n = len(self.playlists)
        pid = f"playlist{n}"
        self.playlists.append(
            {
                "id": pid,
                "name": f"Playlist {n}",
                "snapshot_id": f"snap-{pid}-0",
                "collaborative": False,
                "public": False,
                "owner": {"id": self.user_id, "display_name": "Fake User"},
                "items": {"href": f"{self.url}/v1/playlists/{pid}/items", "total": tracks},
                "external_urls": {"spotify": f"https://open.spotify.com/playlist/{pid}"},
            }
        )
        self.playlist_tracks[pid] = []
        self.add_playlist_tracks(pid, tracks, bump=False)
        return pid

    def add_playlist_tracks(self, pid: str, count: int, bump: bool = True) -> None:
        items = self.playlist_tracks[pid]
        for _ in range(count):
            n = len(items)
            items.append(
                {
                    "added_at": _iso(START + timedelta(days=n)),
                    "added_by": {"id": self.user_id},
                    "is_local": False,
                    "item": track(20000 + 100 * int(pid.removeprefix("playlist")) + n),
                }
            )
        playlist = next(p for p in self.playlists if p["id"] == pid)
        playlist["items"]["total"] = len(items)
        if bump:
            version = int(playlist["snapshot_id"].rsplit("-", 1)[1]) + 1
            playlist["snapshot_id"] = f"snap-{pid}-{version}"

    # -- routes ----------------------------------------------------------------
    def _me(self, request: Request, match: re.Match) -> Reply:
        return Reply(200, {"id": self.user_id, "display_name": "Fake User", "type": "user"})

    def _recently_played(self, request: Request, match: re.Match) -> Reply:
        limit = min(int(request.query.get("limit", 20)), 50)
        after = int(request.query.get("after", 0))
        newer = [p for p in self.plays if _played_ms(p) > after]
        page = newer[:limit]  # the oldest plays after the cursor...
        items = list(reversed(page))  # ...listed newest first
        if not items:
            return Reply(200, {"items": [], "next": None, "cursors": None, "limit": limit})
        newest = max(_played_ms(p) for p in items)
        oldest = min(_played_ms(p) for p in items)
        more = len(newer) > limit
        return Reply(
            200,
            {
                "href": self.page_url("/v1/me/player/recently-played", limit=limit, after=after),
                "items": items,
                "limit": limit,
                "next": self.page_url("/v1/me/player/recently-played", limit=limit, after=newest)
                if more
                else None,
                "cursors": {"after": str(newest), "before": str(oldest)},
            },
        )

    def _offset_page(
        self, path: str, items: list[dict[str, Any]], request: Request, cap: int
    ) -> Reply:
        limit = min(int(request.query.get("limit", 20)), cap)
        offset = int(request.query.get("offset", 0))
        page = items[offset : offset + limit]
        more = offset + limit < len(items)
        return Reply(
            200,
            {
                "href": self.page_url(path, limit=limit, offset=offset),
                "items": page,
                "limit": limit,
                "offset": offset,
                "total": len(items),
                "next": self.page_url(path, limit=limit, offset=offset + limit) if more else None,
                "previous": None,
            },
        )

    def _tracks(self, request: Request, match: re.Match) -> Reply:
        return self._offset_page("/v1/me/tracks", self.saved, request, 50)

    def _playlists(self, request: Request, match: re.Match) -> Reply:
        return self._offset_page("/v1/me/playlists", self.playlists, request, 50)

    def add_refused_playlist(self, status: int, owner: str = "spotify") -> str:
        """A playlist /me/playlists lists whose items are refused: 404 for
        Spotify-owned ones (owner "spotify"), 403 for one the app may not read."""
        pid = self.add_playlist(tracks=3)
        playlist = self.playlists[-1]
        playlist["owner"] = {"id": owner, "display_name": owner.title()}
        playlist["name"] = "Discover Weekly" if owner == "spotify" else f"{owner}'s mix"
        self.refused[pid] = status
        return pid

    def _playlist_items(self, request: Request, match: re.Match) -> Reply:
        pid = match["id"]
        if pid in self.refused:
            status = self.refused[pid]
            message = "Resource not found" if status == 404 else "Forbidden"
            return Reply(status, {"error": {"status": status, "message": message}})
        if pid not in self.playlist_tracks:
            return Reply(404, {"error": {"status": 404, "message": "Resource not found"}})
        return self._offset_page(
            f"/v1/playlists/{pid}/items", self.playlist_tracks[pid], request, 100
        )

    def _removed_route(self, request: Request, match: re.Match) -> Reply:
        # What a Development Mode app gets from the route removed in February 2026.
        return Reply(403, {"error": {"status": 403, "message": "Forbidden"}})
