"""BatchWriter's upserts (merge_list, version_key): what FlushResult says, what the row holds."""

from datetime import UTC, datetime

import pytest

from apps.lake.models import Event
from apps.lake.takeout.records import EventRecord
from apps.lake.writer import BatchWriter
from tests.acting import as_user, refreshed

pytestmark = pytest.mark.django_db

TAKEN = datetime(2024, 3, 3, 10, 0, tzinfo=UTC)


def photo(album: str) -> EventRecord:
    return EventRecord(
        kind="photos.photo",
        occurred_at=TAKEN,
        title="IMG_1.jpg",
        data={"title": "IMG_1.jpg", "albums": [album]},
        copy_fields=("albums",),
        merge_list="albums",
    )


def note(edited: int, text: str) -> EventRecord:
    return EventRecord(
        kind="keep.note",
        occurred_at=TAKEN,
        title=text,
        text=text,
        data={"textContent": text, "userEditedTimestampUsec": edited},
        identity="created 1",
        version_key="userEditedTimestampUsec",
    )


def write(user, *records: EventRecord):
    with BatchWriter(user_id=user.pk, source="takeout") as writer:
        for record in records:
            writer.add(record)
        return writer.flush()


def test_a_united_list_counts_as_present_and_lists_only_inserted_events(owner):
    with as_user(owner):
        first = write(owner, photo("Lisbon"), photo("Best of"), photo("Lisbon"))
        (stored,) = Event.objects.filter(user=owner)
        assert (first.written, first.duplicate, first.event_ids) == (1, 2, [stored.pk])
        assert stored.data["albums"] == ["Best of", "Lisbon"]

        second = write(owner, photo("Porto"))
        assert (second.written, second.duplicate, second.event_ids) == (0, 1, [])
        refreshed(stored)
        assert stored.data["albums"] == ["Best of", "Lisbon", "Porto"]


def test_versions_newest_wins_others_in_history(owner):
    with as_user(owner):
        first = write(owner, note(2, "two"), note(1, "one"))
        (stored,) = Event.objects.filter(user=owner)
        assert (first.written, first.duplicate, first.event_ids) == (1, 1, [stored.pk])
        assert stored.text == "two"
        assert [v["textContent"] for v in stored.data["history"]] == ["one"]

        later = write(owner, note(3, "three"))
        assert (later.written, later.duplicate, later.event_ids) == (0, 1, [])
        refreshed(stored)
        assert (stored.title, stored.text) == ("three", "three")
        assert [v["textContent"] for v in stored.data["history"]] == ["one", "two"]

        write(owner, note(2, "two"), note(1, "one"))  # all known: nothing changes
        refreshed(stored)
        assert [v["textContent"] for v in stored.data["history"]] == ["one", "two"]
        assert stored.text == "three"


def test_plain_events_beside_upserted_ones_keep_their_ids(owner):
    with as_user(owner):
        plain = EventRecord(kind="chrome.visit", occurred_at=TAKEN, title="a", url="https://a")
        result = write(owner, plain, photo("Lisbon"))
        assert result.written == 2
        assert sorted(result.event_ids) == sorted(Event.objects.values_list("pk", flat=True))
