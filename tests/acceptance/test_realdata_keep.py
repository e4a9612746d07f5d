"""Keep notes from obsidian-importer's tests: REAL Takeout JSON from a test account (SOURCES.md)."""

from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout import keep
from apps.lake.takeout.records import EventRecord, MemberError

KEEP = Path("obsidian-importer/tests/keep")


def parse(path: Path) -> list:
    with path.open("rb") as stream:
        return list(keep.parse(stream, PurePosixPath("Takeout/Keep") / path.name))


def test_thirteen_notes_all_import(realdata: Path):
    files = sorted((realdata / KEEP / "notes").glob("*.json"))
    records = [record for path in files for record in parse(path)]
    assert len(files) == 13
    assert len(records) == 13
    assert all(isinstance(r, EventRecord) and r.kind == "keep.note" for r in records)
    assert sum(r.data["isTrashed"] for r in records) == 1
    assert sum(r.data["isArchived"] for r in records) == 1
    assert sum(r.data["isPinned"] for r in records) == 1
    assert all(keep.matches(PurePosixPath("Takeout/Keep") / p.name) for p in files)
    assert all(keep.sniff(p.read_bytes()[:8192]) for p in files)


def test_note_details(realdata: Path):
    by_title = {r.title: r for p in (realdata / KEEP / "notes").glob("*.json") for r in parse(p)}
    checklist = by_title["Checklist note"]
    assert checklist.text.splitlines()[0] == "[ ] First item"
    assert len(checklist.text.splitlines()) == 5
    assert len(checklist.data["labels"]) == 1
    assert len(by_title["Hashtags & labels note"].data["labels"]) == 8
    assert len(by_title["Labelled note"].data["labels"]) == 6
    assert len(by_title["Drawings (multiple) note"].data["attachments"]) == 2
    assert (
        by_title["Multiline title note\nSecond line"].text
        == "This note has a forced new line in its title."
    )
    assert by_title["Deleted note"].data["isTrashed"] is True
    # createdTimestampUsec 1690514858197000
    assert by_title["Archived note"].occurred_at.isoformat() == "2023-07-28T03:27:38.197000+00:00"


def test_broken_json_note_is_a_member_error(realdata: Path):
    with pytest.raises(MemberError, match="Expecting ',' delimiter: line 8 column 5"):
        parse(realdata / KEEP / "broken-json-note.json")


def test_note_without_edit_time_imports(realdata: Path):
    (record,) = parse(realdata / KEEP / "invalid-keep-json-note.json")
    assert isinstance(record, EventRecord)
    assert record.title == "_Text note"
    assert record.occurred_at.isoformat() == "2023-07-27T02:51:47.496000+00:00"
