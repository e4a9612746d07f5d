"""Google Keep: one JSON file per note, ``Takeout/Keep/<title>.json``.

The folder sits beside the note's ``.html`` twin, its attachments and
``Labels.txt``; only the JSON is read. A note is small, so it is read whole.

A note is known by when it was created (``createdTimestampUsec``, to the
microsecond; Keep has no note id in Takeout, and title, text, colour and file
name all change with edits). Edited between two exports it stays one event:
the version with the latest ``userEditedTimestampUsec`` gives title, text and
fields, every other version seen is kept in ``data["history"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from . import jsonstream
from .fields import from_epoch_us
from .paths import directly_in_product_folder, folder_name, head_text
from .records import BadRecord, EventRecord, Parser, Record, excerpt_of

# "Google Notizen" is Keep in German archives.
KEEP_FOLDERS = frozenset({"keep", "google keep", "google notizen"})
# Oldest first: a note's own time is when it was written.
_TIME_KEYS = ("createdTimestampUsec", "userEditedTimestampUsec")


def matches(path: PurePosixPath) -> bool:
    return folder_name(path.name).endswith(".json") and directly_in_product_folder(
        path, KEEP_FOLDERS
    )


def sniff(head: bytes) -> bool:
    text = head_text(head)
    return (
        text.startswith("{")
        and '"isTrashed"' in text
        and ('"textContent"' in text or '"listContent"' in text)
        and "TimestampUsec" in text
    )


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    yield note_record(jsonstream.load_small(stream))


def note_record(note: Any) -> Record:
    if not isinstance(note, dict):
        return BadRecord(
            "a Keep note is a JSON object; this file holds something else", excerpt_of(note)
        )
    try:
        occurred_at = _written_at(note)
    except ValueError as exc:
        return BadRecord(f"note time: {exc}", excerpt_of(note))
    if occurred_at is None:
        return BadRecord(
            "note without createdTimestampUsec or userEditedTimestampUsec", excerpt_of(note)
        )
    created = _usec(note.get("createdTimestampUsec"))
    return EventRecord(
        kind="keep.note",
        occurred_at=occurred_at,
        title=str(note.get("title") or ""),
        text=note_text(note),
        url=_first_link(note),
        data=note,
        # Without a creation time (never seen) a note is known by all it holds, as before.
        identity=f"created {created}" if created else "",
        version_key="userEditedTimestampUsec"
        if created and _usec(note.get("userEditedTimestampUsec"))
        else "",
    )


def _usec(value: Any) -> int:
    """A *TimestampUsec value as a number; 0 for none or anything that is not a number."""
    if isinstance(value, bool):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def note_text(note: dict[str, Any]) -> str:
    """The text of a note, or its checklist as "[x] item" lines."""
    text = note.get("textContent")
    if isinstance(text, str) and text:
        return text
    items = note.get("listContent")
    if not isinstance(items, list):
        return ""
    lines = []
    for item in items:
        if isinstance(item, dict):
            mark = "[x]" if item.get("isChecked") else "[ ]"
            lines.append(f"{mark} {item.get('text') or ''}".rstrip())
    return "\n".join(lines)


def _written_at(note: dict[str, Any]) -> datetime | None:
    for key in _TIME_KEYS:
        value = note.get(key)
        # 0 is what Keep writes for "never"; the next key may know better.
        if value not in (None, "", 0, "0"):
            return from_epoch_us(value)
    return None


def _first_link(note: dict[str, Any]) -> str:
    annotations = note.get("annotations")
    for annotation in annotations if isinstance(annotations, list) else []:
        if isinstance(annotation, dict) and isinstance(annotation.get("url"), str):
            return str(annotation["url"])
    return ""


PARSERS: list[Parser] = [
    Parser(product="keep.notes", matches=matches, parse=parse, sniff=sniff),
]
