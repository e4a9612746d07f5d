"""A Discord data package imported through the lake, met by what the connector stored."""

from __future__ import annotations

import json

import pytest

from apps.connectors.tasks import sync_connection
from apps.core.db.context import system_context
from apps.lake.models import Event, Import, ImportEntry
from apps.lake.takeout.discord import ACTIVITY_SKIP_REASON
from tests.acting import all_of, as_user, count_of, one_of
from tests.connectors.conftest import make_connection
from tests.lake.conftest import make_zip
from tests.lake.takeout.test_discord import message

pytestmark = pytest.mark.django_db(transaction=True)


def _package(tmp_path, guild_ids: list[str]):
    telemetry = "\n".join(
        json.dumps({"event_type": "app_opened", "timestamp": '"2024-01-01T00:00:00Z"'})
        for _ in range(50)
    )
    return make_zip(
        tmp_path / "package.zip",
        {
            "README.txt": "Welcome to your Discord Data Package!",
            "Account/user.json": json.dumps({"id": "80351110224678912", "username": "nelly"}),
            "Messages/index.json": json.dumps({"111": "general in Lake Club", "222": None}),
            "Messages/c111/channel.json": json.dumps(
                {"id": "111", "type": 0, "name": "general", "guild": {"id": guild_ids[0]}}
            ),
            "Messages/c111/messages.json": json.dumps([message(n) for n in range(30)]),
            "Messages/c222/messages.csv": "ID,Timestamp,Contents,Attachments\n"
            + "".join(
                f"{9000 + n},2020-02-02 02:02:0{n}.000000+00:00,old {n},\n" for n in range(5)
            ),
            "Servers/index.json": json.dumps({gid: f"Guild {gid}" for gid in guild_ids}),
            "Activity/analytics/events-2024-00000-of-00001.json": telemetry,
        },
    )


def test_a_package_lands_messages_channels_account_and_skips_telemetry_with_a_reason(
    owner, tmp_path, import_takeout
):
    run = import_takeout(owner, _package(tmp_path, ["9", "10"]))

    assert run.status == Import.Status.DONE, run.error
    assert count_of(owner, Event, kind="discord.message") == 35
    assert count_of(owner, Event, kind="discord.channel") == 2
    assert count_of(owner, Event, kind="discord.guild") == 2
    assert count_of(owner, Event, kind="discord.account") == 1
    skipped = one_of(owner, ImportEntry, import_run=run, path__startswith="Activity/")
    assert (skipped.status, skipped.error) == (ImportEntry.Status.SKIPPED, ACTIVITY_SKIP_REASON)
    assert run.records_quarantined == 0

    again = import_takeout(owner, _package(tmp_path, ["9", "10"]))
    assert (again.records_written, again.records_duplicate) == (0, 35 + 3 + 2 + 1)


def test_servers_of_the_package_are_the_guilds_the_connector_stored(
    owner, discord, tmp_path, import_takeout
):
    sync_connection(owner.pk, make_connection(owner, "discord", discord).pk)
    assert count_of(owner, Event, kind="discord.guild") == 230
    known = [g["id"] for g in discord.guilds[:3]]

    run = import_takeout(owner, _package(tmp_path, [*known, "77"]))

    assert run.status == Import.Status.DONE, run.error
    # Three of the package's four servers are guilds the API listed: one new row.
    assert count_of(owner, Event, kind="discord.guild") == 231
    kept = one_of(owner, Event, kind="discord.guild", data__id=known[0])
    assert kept.source == "discord"


def test_guilds_stored_before_get_their_id_as_identity_and_merge(owner, discord):
    """The data migration: guild rows stored with the old identity (all the API said)."""
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    from apps.lake.normalize import UNDATED

    migration = importlib.import_module("apps.connectors.migrations.0003_discord_guild_identity")
    guild = discord.guilds[0]
    for number, name in enumerate(("Old name", guild["name"])):
        with as_user(owner):
            Event.objects.create(
                user=owner,
                source="discord",
                kind="discord.guild",
                occurred_at=UNDATED,
                title=name,
                data={**guild, "name": name},
                content_hash=bytes([number]) * 16,  # what the old identity gave: two rows
            )

    with system_context():  # as migrate runs it: every user's guilds
        migration.guilds_known_by_id(None, SimpleNamespace(connection=connection))

    [kept] = all_of(owner, Event, kind="discord.guild")
    assert kept.title == guild["name"]
    # A sync now finds it: 230 guilds listed, 229 new.
    sync_connection(owner.pk, make_connection(owner, "discord", discord).pk)
    assert count_of(owner, Event, kind="discord.guild") == 230
