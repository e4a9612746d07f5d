import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import keep
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError

TEXT_NOTE = {
    "color": "BLUE",
    "isTrashed": False,
    "isPinned": True,
    "isArchived": False,
    "textContent": "Buy milk\nand bread",
    "textContentHtml": "<p>Buy milk</p>",
    "title": "Shopping",
    "userEditedTimestampUsec": 1690866317287000,
    "createdTimestampUsec": 1690514858197000,
    "labels": [{"name": "home"}],
    "annotations": [
        {
            "description": "",
            "source": "WEBLINK",
            "title": "Shop",
            "url": "https://shop.example.org/",
        }
    ],
    "attachments": [{"filePath": "1690514441523.png", "mimetype": "image/png"}],
}
LIST_NOTE = {
    "color": "DEFAULT",
    "isTrashed": True,
    "isPinned": False,
    "isArchived": True,
    "listContent": [
        {"text": "First item", "isChecked": False},
        {"text": "Done item", "isChecked": True},
    ],
    "title": "Checklist",
    "userEditedTimestampUsec": 1690866308447000,
    "createdTimestampUsec": 1690372692755000,
}


def parse(note: object | bytes, name: str = "Takeout/Keep/Shopping.json") -> list:
    data = note if isinstance(note, bytes) else json.dumps(note).encode()
    return list(keep.parse(io.BytesIO(data), PurePosixPath(name)))


def test_text_note():
    (record,) = parse(TEXT_NOTE)
    assert isinstance(record, EventRecord)
    assert record.kind == "keep.note"
    assert record.occurred_at == datetime(2023, 7, 28, 3, 27, 38, 197000, tzinfo=UTC)
    assert record.title == "Shopping"
    assert record.text == "Buy milk\nand bread"
    assert record.url == "https://shop.example.org/"
    assert record.data == TEXT_NOTE  # labels, annotations, flags, attachments: all kept


def test_checklist_note_becomes_marked_lines():
    (record,) = parse(LIST_NOTE)
    assert record.text == "[ ] First item\n[x] Done item"
    assert record.data["isTrashed"] is True and record.data["isArchived"] is True


def test_note_without_edit_time_still_imports():
    note = {k: v for k, v in TEXT_NOTE.items() if k != "userEditedTimestampUsec"}
    (record,) = parse(note)
    assert record.occurred_at == datetime(2023, 7, 28, 3, 27, 38, 197000, tzinfo=UTC)


def test_note_with_only_edit_time_uses_it():
    note = {k: v for k, v in TEXT_NOTE.items() if k != "createdTimestampUsec"}
    (record,) = parse(note)
    assert record.occurred_at == datetime(2023, 8, 1, 5, 5, 17, 287000, tzinfo=UTC)


def test_bad_notes_are_quarantined_with_a_reason():
    (no_time,) = parse({"title": "x", "textContent": "y"})
    assert isinstance(no_time, BadRecord)
    assert no_time.reason == "note without createdTimestampUsec or userEditedTimestampUsec"
    (bad_time,) = parse({"title": "x", "createdTimestampUsec": "soon"})
    assert isinstance(bad_time, BadRecord) and "not a microsecond timestamp" in bad_time.reason
    (not_object,) = parse([1, 2])
    assert isinstance(not_object, BadRecord) and "JSON object" in not_object.reason


def test_broken_json_is_a_member_error():
    broken = b'{\n "title": "_Text note"\n "createdTimestampUsec": 1690426307496000\n}'
    with pytest.raises(MemberError, match="invalid JSON"):
        parse(broken)


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Keep/Shopping.json",
        "Takeout/Google Notizen/Einkauf.json",
        "Keep/2023-08-01T14_29_43.842+10_00.json",
    ],
)
def test_matches(path: str):
    assert keep.matches(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Keep/Shopping.html",
        "Takeout/Keep/Labels.txt",
        "Takeout/My Activity/Keep/MyActivity.json",
        "Takeout/Meine Aktivitäten/Keep/MeineAktivitäten.json",
        "Takeout/Google Photos/Keep/img.jpg.json",
        "Shopping.json",
    ],
)
def test_does_not_match(path: str):
    assert not keep.matches(PurePosixPath(path))


def test_sniff():
    assert keep.sniff(json.dumps(TEXT_NOTE).encode())
    assert keep.sniff(json.dumps(LIST_NOTE, indent=4).encode())
    assert not keep.sniff(b'{"title": "a.jpg", "photoTakenTime": {"timestamp": "1"}}')
    assert not keep.sniff(
        b'[{"header": "Keep", "title": "Used Keep", "time": "2020-01-01T00:00:00Z"}]'
    )


def test_a_note_is_known_by_its_creation_and_versioned_by_its_last_edit():
    (record,) = parse(TEXT_NOTE)
    assert record.identity == "created 1690514858197000"
    assert record.version_key == "userEditedTimestampUsec"
    edited = {**TEXT_NOTE, "title": "Groceries", "textContent": "eggs", "color": "RED"}
    (again,) = parse(edited, "Takeout/Keep/Groceries.json")
    assert (again.identity, again.occurred_at) == (record.identity, record.occurred_at)


def test_a_note_without_a_creation_time_is_known_by_all_it_holds():
    (record,) = parse({**TEXT_NOTE, "createdTimestampUsec": 0})
    assert (record.identity, record.version_key) == ("", "")
