"""Discord's data package (User Settings → Data & Privacy → "Request all of my data").

What a user token cannot read over the API, the package holds:

- ``account/user.json``: the account (id, username, e-mail, phone, connections,
  relationships...): one ``discord.account`` event, dated when the account was made.
- ``messages/index.json``: ``{channel_id: "channel in Server" | "Direct Message
  with user" | null}``: one undated ``discord.channel`` per channel.
- ``messages/c<ID>/messages.json`` (packages since 2023: ``[{ID, Timestamp,
  Contents, Attachments}]``) and, in older packages, ``messages/<ID>/messages.csv``
  (``ID,Timestamp,Contents,Attachments``): the user's own messages, streamed,
  one ``discord.message`` each, known by the message id.
- ``messages/c<ID>/channel.json``: the channel (type, name, guild, recipients):
  the same ``discord.channel`` as the index's entry, with its details.
- ``servers/index.json``: ``{guild_id: name}``: one undated ``discord.guild``
  per server, the same row the API connector stores for it (known by the id).
- ``activity/<analytics|modeling|reporting|tns>/events-*.json``: Discord's own
  telemetry of the client, one JSON object per line, often gigabytes: not
  imported (``SKIPPED``, with the reason on the import entry).

Folder names are lower case in older packages, capitalised ("Messages") in newer.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from . import jsonstream
from .fields import parse_iso
from .paths import head_text, lower_parts
from .records import BadRecord, EventRecord, MemberError, Parser, Record, excerpt_of

DISCORD_EPOCH_MS = 1420070400000
_CHANNEL_FOLDER = re.compile(r"c?(\d+)")
_MESSAGES_JSON_SNIFF = re.compile(r'\[\s*\{\s*"ID"\s*:')
_MESSAGES_CSV_HEADER = "ID,Timestamp,Contents,Attachments"
_ACTIVITY_EVENTS = re.compile(r"events-.*\.json")

ACTIVITY_SKIP_REASON = (
    "Discord's telemetry of its apps (one line per click and view, often gigabytes), "
    "not something the user did or wrote: not imported"
)


def snowflake_time(snowflake: Any) -> datetime:
    """When a Discord id was made (its top 42 bits: ms since 2015-01-01)."""
    try:
        milliseconds = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    except (TypeError, ValueError):
        raise ValueError(f"not a Discord id: {snowflake!r}") from None
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def guild_identity(guild_id: Any) -> str:
    """What makes a guild row one (shared with the API connector): its id."""
    return f"guild:{guild_id}"


def channel_identity(channel_id: Any) -> str:
    return f"channel:{channel_id}"


def message_identity(message_id: Any) -> str:
    return f"message:{message_id}"


def _channel_id(path: PurePosixPath) -> str | None:
    """The channel id of a file in ``messages/c<ID>/`` (``messages/<ID>/`` in old packages)."""
    parts = lower_parts(path)
    if len(parts) < 3 or parts[-3] != "messages":
        return None
    match = _CHANNEL_FOLDER.fullmatch(parts[-2])
    return match.group(1) if match else None


def _in_folder(folder: str, name: str):
    def matches(path: PurePosixPath) -> bool:
        parts = lower_parts(path)
        return len(parts) >= 2 and parts[-2] == folder and parts[-1] == name

    return matches


def _in_channel_folder(name: str):
    def matches(path: PurePosixPath) -> bool:
        return path.name.casefold() == name and _channel_id(path) is not None

    return matches


def skip_reason(path: PurePosixPath) -> str | None:
    """Why a member of a Discord package is not imported, when it is one we skip on purpose."""
    parts = lower_parts(path)
    if len(parts) >= 3 and parts[-3] == "activity" and _ACTIVITY_EVENTS.fullmatch(parts[-1]):
        return ACTIVITY_SKIP_REASON
    return None


# -- messages -----------------------------------------------------------------------------------


def message_record(channel_id: str | None, item: Any) -> EventRecord:
    """One message the user sent; ValueError with the reason when it cannot be read."""
    if not isinstance(item, dict):
        raise ValueError("a message is a JSON object; this item is something else")
    message_id = item.get("ID")
    if message_id in (None, ""):
        raise ValueError("message without ID")
    stamp = item.get("Timestamp")
    occurred_at = parse_iso(stamp) if stamp else snowflake_time(message_id)
    return EventRecord(
        kind="discord.message",
        occurred_at=occurred_at,
        text=str(item.get("Contents") or ""),
        data={"channel_id": channel_id, **item},
        identity=message_identity(message_id),
    )


def _messages_json_sniff(head: bytes) -> bool:
    text = head_text(head)
    return _MESSAGES_JSON_SNIFF.match(text) is not None and '"Contents"' in text


def _parse_messages_json(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    channel_id = _channel_id(path)
    for item in jsonstream.iter_items(stream, "item"):
        try:
            yield message_record(channel_id, item)
        except ValueError as exc:
            yield BadRecord(reason=f"Discord message: {exc}", excerpt=excerpt_of(item))


def _messages_csv_sniff(head: bytes) -> bool:
    return head_text(head).startswith(_MESSAGES_CSV_HEADER)


def _parse_messages_csv(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    channel_id = _channel_id(path)
    # Contents hold line breaks inside quotes: the csv module reads them, row by row.
    text = codecs.getreader("utf-8-sig")(stream, "strict")
    try:
        for row in csv.DictReader(text):
            try:
                yield message_record(channel_id, dict(row))
            except ValueError as exc:
                yield BadRecord(reason=f"Discord message: {exc}", excerpt=excerpt_of(row))
    except UnicodeDecodeError as exc:
        raise MemberError(f"not UTF-8 encoded CSV: {exc}") from None
    except csv.Error as exc:
        raise MemberError(f"unreadable CSV: {exc}") from None


# -- channels, servers, account -----------------------------------------------------------------


def channel_record(channel_id: Any, details: dict[str, Any]) -> EventRecord:
    guild = details.get("guild") if isinstance(details.get("guild"), dict) else {}
    name = details.get("name") or details.get("description") or ""
    return EventRecord(
        kind="discord.channel",
        occurred_at=None,
        title=str(name),
        text=str((guild or {}).get("name") or ""),
        data={"id": str(channel_id), **details},
        identity=channel_identity(channel_id),
    )


def _parse_channel_index(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for channel_id, description in jsonstream.iter_kvitems(stream, ""):
        yield channel_record(channel_id, {"description": description})


def _parse_channel(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    details = jsonstream.load_small(stream)
    if not isinstance(details, dict):
        yield BadRecord("channel.json holds no JSON object", excerpt_of(details))
        return
    yield channel_record(details.get("id") or _channel_id(path), details)


def guild_record(guild_id: Any, name: Any) -> EventRecord:
    return EventRecord(
        kind="discord.guild",
        occurred_at=None,
        title=str(name or ""),
        data={"id": str(guild_id), "name": name},
        identity=guild_identity(guild_id),
    )


def _parse_servers(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for guild_id, name in jsonstream.iter_kvitems(stream, ""):
        yield guild_record(guild_id, name)


def _parse_account(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    user = jsonstream.load_small(stream)
    if not isinstance(user, dict) or "id" not in user:
        yield BadRecord("user.json holds no Discord account (no id)", excerpt_of(user))
        return
    yield EventRecord(
        kind="discord.account",
        occurred_at=snowflake_time(user["id"]),
        title=str(user.get("global_name") or user.get("username") or ""),
        text=str(user.get("username") or ""),
        data=user,  # each package's copy is kept: what the account said then
    )


PARSERS: list[Parser] = [
    Parser(
        "discord.messages",
        _in_channel_folder("messages.json"),
        _parse_messages_json,
        _messages_json_sniff,
    ),
    Parser(
        "discord.messages_csv",
        _in_channel_folder("messages.csv"),
        _parse_messages_csv,
        _messages_csv_sniff,
    ),
    Parser("discord.channel", _in_channel_folder("channel.json"), _parse_channel),
    Parser("discord.channels", _in_folder("messages", "index.json"), _parse_channel_index),
    Parser("discord.servers", _in_folder("servers", "index.json"), _parse_servers),
    Parser("discord.account", _in_folder("account", "user.json"), _parse_account),
]
