"""Discord: the user's profile and the guilds (servers) they are in.

Discord's OAuth scopes give no message history (messages.read is for local
RPC only); what a user's own data export holds is for an importer, not this.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from apps.connectors.base import ApiSession, Connector, SyncPage, mapped
from apps.lake.takeout import discord as discord_export
from apps.lake.takeout.records import EventRecord

API = "https://discord.com/api/v10"
GUILD_PAGE = 200  # the documented maximum
MAX_PAGES = 50
DISCORD_EPOCH_MS = 1420070400000

PROFILE_COPY_FIELDS = (
    "avatar",
    "avatar_decoration_data",
    "banner",
    "accent_color",
    "banner_color",
    "flags",
    "public_flags",
    "premium_type",
    "locale",
    "mfa_enabled",
    "verified",
    "email",
    "clan",
    "primary_guild",
    "collectibles",
)
GUILD_COPY_FIELDS = (
    "icon",
    "banner",
    "permissions",
    "permissions_new",
    "features",
    "approximate_member_count",
    "approximate_presence_count",
)


def snowflake_time(snowflake: str) -> datetime:
    """The moment a Discord id was made (its top 42 bits: ms since 2015-01-01)."""
    return datetime.fromtimestamp(((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def profile_record(user: dict[str, Any]) -> EventRecord:
    """A user object (GET /users/@me): dated when the account was made."""
    name = user.get("global_name") or user["username"]
    return EventRecord(
        kind="discord.profile",
        occurred_at=snowflake_time(user["id"]),
        title=name,
        text=user["username"],
        data=user,
        copy_fields=PROFILE_COPY_FIELDS,
    )


def guild_record(guild: dict[str, Any]) -> EventRecord:
    """A partial guild (GET /users/@me/guilds). Discord does not say when the
    user joined, so it is undated (the guild's own birth would mislead).

    Known by its id, as the data package's servers/index.json knows it
    (apps/lake/takeout/discord.py): one row per guild, whichever came first.
    """
    return EventRecord(
        kind="discord.guild",
        occurred_at=None,
        title=guild["name"],
        text="owner" if guild.get("owner") else "",
        data=guild,
        copy_fields=GUILD_COPY_FIELDS,
        identity=discord_export.guild_identity(guild["id"]),
    )


class DiscordConnector(Connector):
    provider = "discord"
    label = "Discord"
    source = "discord"
    scopes = ("identify", "guilds")
    token_url = "https://discord.com/api/oauth2/token"
    revoke_url = "https://discord.com/api/oauth2/token/revoke"
    app_console = "https://discord.com/developers/applications"
    export_url = "https://support.discord.com/hc/en-us/articles/360004027692"
    export_holds = (
        "the data package (User Settings → Data & Privacy → Request all of my data): every "
        "message you sent, your channels and servers; the API gives no message history"
    )

    def pages(self, api: ApiSession, cursor: dict[str, Any]) -> Iterator[SyncPage]:
        yield SyncPage(mapped([api.get(f"{API}/users/@me")], profile_record), dict(cursor))
        # Membership is a set, not a stream: list it whole (by id, `after`
        # paging); what was stored before is recognised by its content hash.
        after = "0"
        for _ in range(MAX_PAGES):
            guilds = api.get(f"{API}/users/@me/guilds", {"limit": GUILD_PAGE, "after": after}) or []
            if not guilds:
                break
            yield SyncPage(mapped(guilds, guild_record), dict(cursor))
            if len(guilds) < GUILD_PAGE:
                break
            after = max((g["id"] for g in guilds), key=int)
