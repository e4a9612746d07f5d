"""Google as documented: oauth2.googleapis.com token + revoke, userinfo,
YouTube Data API v3 activities (pageToken, publishedAfter), Fitness API
sessions (a sync feed of nextPageToken) and heart-rate datasets (nanosecond
windows, pageToken)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.fakes.base import FakeProvider, Reply, Request

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class FakeGoogle(FakeProvider):
    authorize_path = "/o/oauth2/v2/auth"
    token_path = "/token"
    revoke_path = "/revoke"
    rotate_refresh = False

    def __init__(self, *, activities: int = 0, sessions: int = 0, heart_points: int = 0) -> None:
        super().__init__()
        self.activities: list[dict[str, Any]] = []  # newest first
        self.sessions: list[dict[str, Any]] = []  # in order of creation
        # The sessions feed: (True, session) for a change, (False, session) for a
        # deletion, in order of modification; pageToken counts what was seen.
        self.session_changes: list[tuple[bool, dict[str, Any]]] = []
        self.heart: list[dict[str, Any]] = []
        self.add_activities(activities)
        self.add_sessions(sessions)
        self.add_heart(heart_points)
        self.route("GET", "/oauth2/v2/userinfo", self._userinfo)
        self.route("GET", "/youtube/v3/activities", self._activities)
        self.route("GET", "/fitness/v1/users/me/sessions", self._sessions)
        self.route(
            "GET",
            r"/fitness/v1/users/me/dataSources/(?P<source>[^/]+)/datasets/(?P<start>\d+)-(?P<end>\d+)",
            self._dataset,
        )

    def add_activities(self, count: int) -> None:
        kinds = ["upload", "like", "playlistItem", "subscription"]
        for _ in range(count):
            n = len(self.activities)
            kind = kinds[n % 4]
            details: dict[str, Any] = {
                "upload": {"upload": {"videoId": f"vid{n}"}},
                "like": {"like": {"resourceId": {"kind": "youtube#video", "videoId": f"vid{n}"}}},
                "playlistItem": {
                    "playlistItem": {
                        "resourceId": {"kind": "youtube#video", "videoId": f"vid{n}"},
                        "playlistId": "PL1",
                    }
                },
                "subscription": {
                    "subscription": {
                        "resourceId": {"kind": "youtube#channel", "channelId": f"UC{n}"}
                    }
                },
            }[kind]
            self.activities.insert(
                0,
                {
                    "kind": "youtube#activity",
                    "etag": f"etag{n}",
                    "id": f"act{n}",
                    "snippet": {
                        "publishedAt": _iso(START + timedelta(minutes=30 * n)),
                        "channelId": "UCme",
                        "title": f"Video {n}",
                        "description": "",
                        "thumbnails": {
                            "default": {"url": f"https://i.ytimg.com/vi/vid{n}/default.jpg"}
                        },
                        "channelTitle": "Me",
                        "type": kind,
                    },
                    "contentDetails": details,
                },
            )

    def add_sessions(self, count: int) -> None:
        for _ in range(count):
            n = len(self.sessions)
            start = START + timedelta(hours=5 * n)
            self.sessions.append(
                {
                    "id": f"session{n}",
                    "name": f"Run {n}",
                    "description": "",
                    "startTimeMillis": str(int(start.timestamp() * 1000)),
                    "endTimeMillis": str(int((start + timedelta(minutes=40)).timestamp() * 1000)),
                    "modifiedTimeMillis": str(int(start.timestamp() * 1000) + 5),
                    "application": {"packageName": "com.google.android.apps.fitness"},
                    "activityType": 8,
                }
            )
            self.session_changes.append((True, self.sessions[-1]))

    def delete_session(self, n: int) -> None:
        """The user deleted session ``n`` in the Fit app: a deletion joins the feed."""
        session = dict(self.sessions[n])
        session["modifiedTimeMillis"] = str(int(session["modifiedTimeMillis"]) + 1000)
        self.session_changes.append((False, session))

    def add_heart_at(self, at: datetime, bpm: float) -> None:
        """A point measured at ``at`` that reaches Fit only now (a watch syncing late)."""
        nanos = str(int(at.timestamp()) * 1_000_000_000)
        self.heart.append(
            {
                "startTimeNanos": nanos,
                "endTimeNanos": nanos,
                "dataTypeName": "com.google.heart_rate.bpm",
                "originDataSourceId": "raw:com.google.heart_rate.bpm:watch",
                "value": [{"fpVal": bpm, "mapVal": []}],
                "modifiedTimeMillis": "2",
            }
        )

    def add_heart(self, count: int) -> None:
        for _ in range(count):
            n = len(self.heart)
            at = int((START + timedelta(minutes=5 * n)).timestamp()) * 1_000_000_000
            self.heart.append(
                {
                    "startTimeNanos": str(at),
                    "endTimeNanos": str(at),
                    "dataTypeName": "com.google.heart_rate.bpm",
                    "originDataSourceId": "raw:com.google.heart_rate.bpm:watch",
                    "value": [{"fpVal": 60.0 + n % 40, "mapVal": []}],
                    "modifiedTimeMillis": "1",
                }
            )

    def _userinfo(self, request: Request, match: re.Match) -> Reply:
        return Reply(
            200,
            {
                "id": "108204268033311374519",
                "email": "me@example.com",
                "verified_email": True,
                "name": "Me",
            },
        )

    def _activities(self, request: Request, match: re.Match) -> Reply:
        if request.query.get("mine") != "true":
            return Reply(400, {"error": {"code": 400, "message": "mine=true expected"}})
        items = self.activities
        if "publishedAfter" in request.query:
            after = datetime.fromisoformat(request.query["publishedAfter"].replace("Z", "+00:00"))
            items = [
                i
                for i in items
                if datetime.fromisoformat(i["snippet"]["publishedAt"].replace("Z", "+00:00"))
                > after
            ]
        size = min(int(request.query.get("maxResults", 5)), 50)
        offset = int(request.query.get("pageToken", "0").removeprefix("p") or 0)
        page = items[offset : offset + size]
        body: dict[str, Any] = {
            "kind": "youtube#activityListResponse",
            "items": page,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
        }
        if offset + size < len(items):
            body["nextPageToken"] = f"p{offset + size}"
        return Reply(200, body)

    def _sessions(self, request: Request, match: re.Match) -> Reply:
        # users.sessions.list: without startTime/endTime a feed of changes,
        # pageToken = how many the caller has seen (pages of 20 here).
        # includeDeleted=true adds the deletions (deletedSession); without it
        # Google leaves them out.
        seen = int(request.query.get("pageToken", "0"))
        page = self.session_changes[seen : seen + 20]
        with_deleted = request.query.get("includeDeleted") == "true"
        return Reply(
            200,
            {
                "session": [s for changed, s in page if changed],
                "deletedSession": [s for changed, s in page if not changed and with_deleted],
                "nextPageToken": str(seen + len(page)),
                "hasMoreData": seen + 20 < len(self.session_changes),
            },
        )

    def _dataset(self, request: Request, match: re.Match) -> Reply:
        if (
            match["source"]
            != "derived:com.google.heart_rate.bpm:com.google.android.gms:merge_heart_rate_bpm"
        ):
            return Reply(404, {"error": {"code": 404}})
        start, end = int(match["start"]), int(match["end"])
        points = [p for p in self.heart if start <= int(p["startTimeNanos"]) < end]
        limit = int(request.query.get("limit", 1000))
        offset = int(request.query.get("pageToken", 0))
        page = points[offset : offset + limit]
        body: dict[str, Any] = {
            "minStartTimeNs": str(start),
            "maxEndTimeNs": str(end),
            "dataSourceId": match["source"],
            "point": page,
        }
        if offset + limit < len(points):
            body["nextPageToken"] = str(offset + limit)
        return Reply(200, body)
