"""Discord end to end against the fake: profile, guilds, second sync, connect, revoke."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.connectors.discord import snowflake_time
from apps.connectors.models import Connection
from apps.connectors.tasks import sync_connection
from apps.lake.models import Event
from tests.acting import count_of, one_of, refreshed
from tests.connectors.conftest import make_connection
from tests.connectors.test_connect import _connect

pytestmark = pytest.mark.django_db(transaction=True)


def test_profile_and_guilds_are_stored_once(owner, discord):
    conn = make_connection(owner, "discord", discord, external_id=discord.user["id"])

    sync_connection(owner.pk, conn.pk)

    assert count_of(owner, Event, kind="discord.guild") == 230
    profile = one_of(owner, Event, kind="discord.profile")
    assert profile.title == "Nelly" and profile.occurred_at == snowflake_time("80351110224678912")
    guild_calls = [r for r in discord.data_calls() if r.path.endswith("/guilds")]
    assert [r.query["after"] for r in guild_calls][0] == "0" and len(guild_calls) == 2

    discord.user["avatar"] = "new-avatar"  # a new picture is not a new profile
    discord.guilds[3]["approximate_member_count"] = 9999
    discord.add_guilds(1)
    sync_connection(owner.pk, conn.pk)

    assert count_of(owner, Event, kind="discord.guild") == 231
    assert count_of(owner, Event, kind="discord.profile") == 1

    discord.user["global_name"] = "Nelly B."  # a new name is
    sync_connection(owner.pk, conn.pk)
    assert count_of(owner, Event, kind="discord.profile") == 2


def test_snowflakes_tell_their_time():
    # Discord's documented example: 175928847299117063 is 2016-04-30 11:18:25.796 UTC.
    assert snowflake_time("175928847299117063") == datetime(
        2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC
    )


def test_connect_sync_and_disconnect(client, owner, discord):
    client.force_login(owner)
    _connect(client, "discord", discord)
    conn = one_of(owner, Connection, provider="discord")
    assert conn.external_id == discord.user["id"] and conn.display_name == "Nelly"

    sync_connection(owner.pk, conn.pk)
    refresh = conn.refresh_token
    client.post(f"/connections/{conn.pk}/disconnect/")

    assert count_of(owner, Event, kind="discord.guild") == 230
    assert refresh not in discord.refresh
    refreshed(conn)
    assert conn.status == Connection.Status.REVOKED
