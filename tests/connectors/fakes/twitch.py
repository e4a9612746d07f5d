"""Twitch as documented: id.twitch.tv OAuth (token, refresh, revoke; a dead
refresh token is 400 "Invalid refresh token"), Helix with Client-Id, and
/helix/channels/followed paged by an opaque pagination cursor."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.connectors.fakes.base import CLIENT_ID, FakeProvider, Reply, Request

START = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


class FakeTwitch(FakeProvider):
    authorize_path = "/oauth2/authorize"
    token_path = "/oauth2/token"
    revoke_path = "/oauth2/revoke"
    invalid_grant = Reply(
        400, {"error": "Bad Request", "status": 400, "message": "Invalid refresh token"}
    )

    def _revoke(self, request: Request, match: re.Match) -> Reply:
        # dev.twitch.tv/docs/authentication/revoke-tokens: client_id and the
        # access token; anything else is 400 "Invalid token", an unknown
        # client 404 "client does not exist".
        token = request.form.get("token", "")
        if request.form.get("client_id") != CLIENT_ID:
            return Reply(404, {"status": 404, "message": "client does not exist"})
        with self.lock:
            if token not in self.access:
                return Reply(400, {"status": 400, "message": "Invalid token"})
            self.access.pop(token, None)
        return Reply(200, {})

    def __init__(self, *, follows: int = 0) -> None:
        super().__init__()
        self.user_id = "141981764"
        self.follows: list[dict[str, Any]] = []  # newest first
        self.add_follows(follows)
        self.route("GET", "/helix/users", self._users)
        self.route("GET", "/helix/channels/followed", self._followed)

    def add_follows(self, count: int) -> None:
        for _ in range(count):
            n = len(self.follows)
            self.follows.insert(
                0,
                {
                    "broadcaster_id": str(1000 + n),
                    "broadcaster_login": f"streamer{n}",
                    "broadcaster_name": f"Streamer{n}",
                    "followed_at": (START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )

    def _client_id_ok(self, request: Request) -> bool:
        return request.headers.get("client-id") == CLIENT_ID

    def _users(self, request: Request, match: re.Match) -> Reply:
        if not self._client_id_ok(request):
            return Reply(
                401,
                {"error": "Unauthorized", "status": 401, "message": "Client-Id header required"},
            )
        return Reply(
            200, {"data": [{"id": self.user_id, "login": "twitchdev", "display_name": "TwitchDev"}]}
        )

    def _followed(self, request: Request, match: re.Match) -> Reply:
        if not self._client_id_ok(request):
            return Reply(
                401,
                {"error": "Unauthorized", "status": 401, "message": "Client-Id header required"},
            )
        if request.query.get("user_id") != self.user_id:
            return Reply(
                400,
                {"error": "Bad Request", "status": 400, "message": "user_id must match the token"},
            )
        first = min(int(request.query.get("first", 20)), 100)
        offset = (
            int(base64.b64decode(request.query["after"]).decode())
            if "after" in request.query
            else 0
        )
        page = self.follows[offset : offset + first]
        more = offset + first < len(self.follows)
        pagination = (
            {"cursor": base64.b64encode(str(offset + first).encode()).decode()} if more else {}
        )
        return Reply(200, {"total": len(self.follows), "data": page, "pagination": pagination})
