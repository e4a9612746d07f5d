"""A Keep note edited between two exports is one note with its latest text, history kept."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest
from django.db import connection

from apps.lake.models import Event, Import
from tests.acting import as_user, takeout_import

from .conftest import make_zip

pytestmark = pytest.mark.django_db

CREATED = 1_690_514_858_197_000


def note(edited: int, title: str, text: str, **extra) -> dict:
    return {
        "isTrashed": False,
        "isPinned": False,
        "isArchived": False,
        "textContent": text,
        "title": title,
        "userEditedTimestampUsec": edited,
        "createdTimestampUsec": CREATED,
        **extra,
    }


V1 = note(1_690_600_000_000_000, "Shopping", "milk")
V2 = note(1_690_700_000_000_000, "Shopping list", "milk\nbread", color="BLUE")
V3 = note(1_690_800_000_000_000, "Groceries", "milk\nbread\neggs")


def import_notes(user, tmp_path, *notes: dict, name: str = "Shopping") -> Import:

    members = {
        f"Takeout/Keep/{name}{'' if i == 0 else f'({i})'}.json": json.dumps(item)
        for i, item in enumerate(notes)
    }
    archive = tmp_path / f"takeout-{len(list(tmp_path.iterdir()))}.zip"
    run = takeout_import(user, make_zip(archive, members))
    assert run.status == Import.Status.DONE, run.error
    return run


def the_note(user) -> Event:
    (only,) = Event.objects.filter(user=user, kind="keep.note")
    return only


def versions(event: Event) -> list[int]:
    return [item["userEditedTimestampUsec"] for item in event.data.get("history", [])]


def test_an_edited_note_is_one_note_with_its_latest_text(owner, tmp_path):
    with as_user(owner):
        first = import_notes(owner, tmp_path, V1)
        # The next export: the note was renamed (so was its file) and edited.
        second = import_notes(owner, tmp_path, V2, name="Shopping list")

        assert first.records_written == 1
        assert (second.records_written, second.records_duplicate) == (0, 1)
        stored = the_note(owner)
        assert (stored.title, stored.text) == ("Shopping list", "milk\nbread")
        assert stored.data["color"] == "BLUE"
        assert versions(stored) == [V1["userEditedTimestampUsec"]]
        assert stored.data["history"][0]["textContent"] == "milk"

        import_notes(owner, tmp_path, V3, name="Groceries")
        stored = the_note(owner)
        assert stored.title == "Groceries"
        assert versions(stored) == [V1["userEditedTimestampUsec"], V2["userEditedTimestampUsec"]]


def test_an_older_export_imported_later_only_adds_to_the_history(owner, tmp_path):
    with as_user(owner):
        import_notes(owner, tmp_path, V3)
        import_notes(owner, tmp_path, V1)
        import_notes(owner, tmp_path, V2)

        stored = the_note(owner)
        assert (stored.title, stored.text) == ("Groceries", "milk\nbread\neggs")
        assert versions(stored) == [V1["userEditedTimestampUsec"], V2["userEditedTimestampUsec"]]


def test_the_same_export_again_changes_nothing(owner, tmp_path):
    with as_user(owner):
        import_notes(owner, tmp_path, V1)
        import_notes(owner, tmp_path, V2)
        before = the_note(owner).data
        again = import_notes(owner, tmp_path, V2)
        older = import_notes(owner, tmp_path, V1)

        assert (again.records_written, older.records_written) == (0, 0)
        assert the_note(owner).data == before


def test_two_versions_in_one_import_are_one_note(owner, tmp_path):
    with as_user(owner):
        run = import_notes(owner, tmp_path, V2, V1, V3)

        assert (run.records_written, run.records_duplicate) == (1, 2)
        stored = the_note(owner)
        assert stored.title == "Groceries"
        assert versions(stored) == [V1["userEditedTimestampUsec"], V2["userEditedTimestampUsec"]]


def test_different_notes_stay_apart(owner, tmp_path):
    with as_user(owner):
        other = {**V1, "createdTimestampUsec": CREATED + 1, "title": "Other"}
        import_notes(owner, tmp_path, V1, other)
        assert Event.objects.filter(user=owner, kind="keep.note").count() == 2


def test_notes_stored_before_get_their_identity_and_merge(owner, tmp_path):
    """The data migration: notes stored with the old identity (everything they held)."""
    with as_user(owner):
        from datetime import UTC, datetime

        migration = importlib.import_module("apps.lake.migrations.0003_keep_note_identity")
        created_at = datetime.fromtimestamp(CREATED / 1e6, UTC)
        for number, version in enumerate((V1, V2)):
            Event.objects.create(
                user=owner,
                source="takeout",
                kind="keep.note",
                occurred_at=created_at,
                title=version["title"],
                text=version["textContent"],
                data=version,
                content_hash=bytes([number]) * 16,  # what the old identity gave: two rows
            )

        migration.notes_known_by_creation(None, SimpleNamespace(connection=connection))

        stored = the_note(owner)
        assert stored.title == "Shopping list"
        assert versions(stored) == [V1["userEditedTimestampUsec"]]
        # An export of the next version now finds it.
        later = import_notes(owner, tmp_path, V3)
        assert later.records_written == 0
        assert the_note(owner).title == "Groceries"
        assert versions(the_note(owner)) == [
            V1["userEditedTimestampUsec"],
            V2["userEditedTimestampUsec"],
        ]
