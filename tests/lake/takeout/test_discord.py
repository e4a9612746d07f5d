"""Discord's data package: account, channels, messages (JSON and the older CSV), servers.

No real package is in ../shared/realdata (SOURCES.md lists it as a gap): the
samples follow the layout Discord's README.txt in the package describes and
the shapes public parsers of it read (messages.json ``[{ID, Timestamp,
Contents, Attachments}]``, messages.csv with that header, index.json maps of
id to name).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from apps.lake.takeout import discord, registry
from apps.lake.takeout.records import BadRecord, EventRecord

from .streams import CountingStream

# The docs' example message id (realdata/discord-api-docs).
MESSAGE_ID = 334385199974967042
# Discord's reference (Snowflakes, "Snowflake ID Broken Down"): this id was made
# at 2016-04-30 11:18:25.796 UTC.
DOCUMENTED_SNOWFLAKE = 175928847299117063
DOCUMENTED_SNOWFLAKE_TIME = datetime(2016, 4, 30, 11, 18, 25, 796_000, tzinfo=UTC)


def message(n: int, timestamp: str = "2024-03-01 10:00:00", contents: str = "") -> dict[str, Any]:
    return {
        "ID": MESSAGE_ID + n,
        "Timestamp": timestamp,
        "Contents": contents or f"message {n}",
        "Attachments": "",
    }


def parse(path: str, content: Any) -> list:
    raw = content if isinstance(content, bytes) else json.dumps(content).encode()
    parser = registry.parser_for(PurePosixPath(path), raw[: registry.SNIFF_BYTES])
    assert parser is not None, path
    return list(parser.parse(io.BytesIO(raw), PurePosixPath(path)))


def test_messages_json_of_a_channel_folder():
    records = parse(
        "package/Messages/c111222333/messages.json",
        [
            message(0, "2024-03-01 10:00:00"),
            message(1, "2024-03-01 10:00:05.250000+00:00"),
            {"Timestamp": "2024-03-01 10:00:09", "Contents": "no id"},
        ],
    )
    first, second, bad = records
    assert first.kind == "discord.message" and first.text == "message 0"
    assert first.occurred_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert second.occurred_at == datetime(2024, 3, 1, 10, 0, 5, 250_000, tzinfo=UTC)
    assert first.data["channel_id"] == "111222333"
    assert first.identity == f"message:{MESSAGE_ID}"
    assert isinstance(bad, BadRecord) and bad.reason == "Discord message: message without ID"


def test_the_older_messages_csv_with_line_breaks_in_contents():
    csv_text = (
        "\ufeffID,Timestamp,Contents,Attachments\r\n"
        f'{MESSAGE_ID},2019-05-01 12:34:56.789000+00:00,"two\nlines, one comma",\r\n'
        f"{DOCUMENTED_SNOWFLAKE},,no time: the id says when,https://cdn.discordapp.com/a.png\r\n"
    )
    first, second = parse("messages/444555/messages.csv", csv_text.encode())
    assert first.text == "two\nlines, one comma"
    assert first.occurred_at == datetime(2019, 5, 1, 12, 34, 56, 789_000, tzinfo=UTC)
    assert first.data["channel_id"] == "444555"
    assert second.occurred_at == DOCUMENTED_SNOWFLAKE_TIME
    assert second.data["Attachments"] == "https://cdn.discordapp.com/a.png"


def test_channels_servers_and_account():
    channels = parse(
        "messages/index.json",
        {"111": "general in Lake Club", "222": "Direct Message with x#0001", "333": None},
    )
    [channel] = parse(
        "messages/c111/channel.json",
        {"id": "111", "type": 0, "name": "general", "guild": {"id": "9", "name": "Lake Club"}},
    )
    servers = parse("servers/index.json", {"9": "Lake Club", "10": "Other"})
    [account] = parse(
        "account/user.json",
        {
            "id": str(DOCUMENTED_SNOWFLAKE),
            "username": "ana",
            "global_name": "Ana",
            "email": "ana@example.org",
        },
    )

    assert [(c.title, c.identity) for c in channels] == [
        ("general in Lake Club", "channel:111"),
        ("Direct Message with x#0001", "channel:222"),
        ("", "channel:333"),
    ]
    assert all(c.kind == "discord.channel" and c.occurred_at is None for c in channels)
    # The channel's own file is the same row as its index entry (same identity).
    assert (channel.identity, channel.title, channel.text) == (
        "channel:111",
        "general",
        "Lake Club",
    )
    assert [(s.kind, s.title, s.identity) for s in servers] == [
        ("discord.guild", "Lake Club", "guild:9"),
        ("discord.guild", "Other", "guild:10"),
    ]
    assert account.kind == "discord.account" and account.title == "Ana"
    assert account.occurred_at == DOCUMENTED_SNOWFLAKE_TIME


def test_messages_are_streamed_and_renamed_files_known_by_content():
    items = [message(n) for n in range(20_000)]
    raw = json.dumps(items).encode()
    stream = CountingStream(raw)
    path = PurePosixPath("messages/c1/messages.json")
    parser = registry.parser_for(path)
    assert parser is not None
    first = next(iter(parser.parse(io.BufferedReader(stream), path)))
    assert isinstance(first, EventRecord) and first.text == "message 0"
    assert stream.read_bytes < len(raw) // 4

    assert registry.parser_for(PurePosixPath("x.json"), raw[:8192]).product == "discord.messages"
    csv_head = b"ID,Timestamp,Contents,Attachments\n1,2020-01-01 00:00:00,hi,\n"
    assert registry.parser_for(PurePosixPath("x.csv"), csv_head).product == "discord.messages_csv"


def test_activity_telemetry_is_skipped_with_a_reason_and_nothing_else_is():
    path = PurePosixPath("package/Activity/analytics/events-2024-00000-of-00001.json")
    assert registry.skip_reason(path) == discord.ACTIVITY_SKIP_REASON
    assert registry.skip_reason(PurePosixPath("messages/c1/messages.json")) is None
    assert registry.skip_reason(PurePosixPath("Takeout/Fit/events-1.json")) is None
