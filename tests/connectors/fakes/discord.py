"""Discord as documented: /api/oauth2 token + token/revoke, /users/@me and
/users/@me/guilds (snowflake ids, `after` paging, limit 200), 429 bodies with retry_after."""

from __future__ import annotations

import re
from typing import Any

from tests.connectors.fakes.base import FakeProvider, Reply, Request


class FakeDiscord(FakeProvider):
    authorize_path = "/api/oauth2/authorize"
    token_path = "/api/oauth2/token"
    revoke_path = "/api/oauth2/token/revoke"

    def __init__(self, *, guilds: int = 0) -> None:
        super().__init__()
        self.user = {
            "id": "80351110224678912",
            "username": "nelly",
            "discriminator": "0",
            "global_name": "Nelly",
            "avatar": "8342729096ea3675442027381ff50dfe",
            "verified": True,
            "flags": 64,
            "banner": None,
            "accent_color": 16711680,
            "premium_type": 1,
            "public_flags": 64,
        }
        self.guilds: list[dict[str, Any]] = []
        self.add_guilds(guilds)
        for path in ("/api/users/@me", "/api/v10/users/@me"):
            self.route("GET", path, self._me)
        self.route("GET", "/api/v10/users/@me/guilds", self._guilds)

    def add_guilds(self, count: int) -> None:
        for _ in range(count):
            n = len(self.guilds)
            self.guilds.append(
                {
                    "id": str(197038439483310086 + n * 4194304),
                    "name": f"Guild {n}",
                    "icon": f"icon{n}",
                    "banner": None,
                    "owner": n == 0,
                    "permissions": "36953089",
                    "features": ["COMMUNITY"] if n % 2 else [],
                    "approximate_member_count": 100 + n,
                    "approximate_presence_count": 10 + n,
                }
            )

    def _me(self, request: Request, match: re.Match) -> Reply:
        return Reply(200, self.user)

    def _guilds(self, request: Request, match: re.Match) -> Reply:
        limit = min(int(request.query.get("limit", 200)), 200)
        after = int(request.query.get("after", 0))
        page = sorted((g for g in self.guilds if int(g["id"]) > after), key=lambda g: int(g["id"]))
        return Reply(200, page[:limit])
