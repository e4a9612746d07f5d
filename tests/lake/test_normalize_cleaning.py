"""The normalizer's rules: clean text, checked coordinates, UTC times, provenance,
and identities that cleaning never changes."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from apps.lake.normalize import (
    InvalidValue,
    check_coordinates,
    clean_text,
    event_row,
    iso_utc,
    parse_timestamp,
)
from apps.lake.takeout.records import EventRecord, Provenance

CET = timezone(timedelta(hours=1))

# Content hashes computed with the normalizer as it was before text cleaning
# existed (main at 1b4c1fd): rows already in the lake keep their identity.
PINNED = [
    (
        EventRecord(
            kind="youtube.watch",
            occurred_at=datetime(2024, 3, 1, 12, 0, tzinfo=CET),
            title="Watched  Some video \n",
            url=" https://youtube.com/watch?v=x\t",
            data={"title": "Watched  Some video \n", "header": "YouTube"},
        ),
        "db250a1662b558b2bb368724c7fad97c",
    ),
    (
        EventRecord(
            kind="keep.note",
            occurred_at=datetime(2023, 1, 2, tzinfo=UTC),
            title="Note\x07bell",
            text="line1\r\nline2\x00\x1b[0m",
            data={"textContent": "line1"},
        ),
        "806822c874fda35d14853400c9d9fcdb",
    ),
    (
        EventRecord(
            kind="contacts.contact",
            occurred_at=None,
            title="Ada",
            data={"fn": "Ada"},
            latitude=48.1,
            longitude=11.5,
        ),
        "b81dd47c3038f69a9360e2dc537e46bc",
    ),
    (
        EventRecord(
            kind="play.install",
            occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
            data={"install": {"doc": "app", "lastUpdateTime": "2024"}},
            copy_fields=("install.lastUpdateTime",),
        ),
        "cd183d9f40de7c236a4bd96bd233cc6c",
    ),
]


@pytest.mark.parametrize(("record", "expected"), PINNED)
def test_cleaning_never_changes_the_identity_of_a_stored_record(record, expected):
    assert event_row(record).content_hash.hex() == expected


def test_provenance_is_stored_but_is_not_identity():
    def record(received_at):
        return EventRecord(
            kind="twitch.follow",
            occurred_at=datetime(2026, 11, 30, 18, tzinfo=UTC),
            title="a followed b",
            data={"event": {"user_id": "1"}},
            provenance=Provenance(
                source="twitch", connector="twitch.eventsub", received_at=received_at
            ),
        )

    first = event_row(record(datetime(2026, 11, 30, 18, 0, 1, tzinfo=UTC)))
    again = event_row(record(datetime(2026, 11, 30, 19, 0, 0, tzinfo=CET)))
    assert first.content_hash == again.content_hash
    assert json.loads(first.data_json)["_provenance"] == {
        "source": "twitch",
        "connector": "twitch.eventsub",
        "received_at": "2026-11-30T18:00:01Z",
    }


def test_cleaned_text_keeps_the_original_in_data():
    row = event_row(
        EventRecord(
            kind="ingest.note",
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
            title="  Two\nlines\x00 ",
            text="  keep\nbreaks\tand tabs\x1b  ",
            url="https://example.org/\x7f",
        )
    )
    assert row.title == "Two lines"
    assert row.text == "keep\nbreaks\tand tabs"
    assert row.url == "https://example.org/"
    assert json.loads(row.data_json)["_original"] == {
        "title": "  Two\nlines ",  # NUL cannot be stored in jsonb, even as an original
        "text": "  keep\nbreaks\tand tabs\x1b  ",
        "url": "https://example.org/\x7f",
    }


def test_only_trimmed_text_keeps_no_second_copy():
    row = event_row(
        EventRecord(kind="k.v", occurred_at=datetime(2026, 1, 1, tzinfo=UTC), title=" t \n")
    )
    assert row.title == "t"
    assert row.data_json == "{}"


@pytest.mark.parametrize(
    ("value", "multiline", "expected"),
    [
        ("plain", False, "plain"),
        ("\ttabbed\r\nline\x85", False, "tabbed line"),
        ("a\x00b\x1fc", True, "abc"),
        ("para\n\npara\r\n", True, "para\n\npara"),
        (None, True, ""),
    ],
)
def test_clean_text(value, multiline, expected):
    assert clean_text(value, multiline=multiline) == expected


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (90.5, 0, "latitude"),
        (0, -180.01, "longitude"),
        (float("nan"), 1, "latitude"),
        ("1", 2, "latitude"),
    ],
)
def test_coordinates_out_of_range_are_refused_with_the_field(latitude, longitude, field):
    with pytest.raises(InvalidValue) as error:
        check_coordinates(latitude, longitude)
    assert error.value.field == field
    assert "decimal degrees" in error.value.message


def test_out_of_range_coordinates_send_an_event_to_quarantine_not_the_batch_down():
    with pytest.raises(ValueError, match="latitude"):
        event_row(
            EventRecord(
                kind="k.v", occurred_at=datetime(2026, 1, 1, tzinfo=UTC), latitude=91, longitude=0
            )
        )
    assert check_coordinates(-90, 180) == (-90.0, 180.0)
    assert check_coordinates(None, 5) == (None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-30T19:04:05+01:00", "2026-11-30T18:04:05Z"),
        ("2026-11-30T18:04:05.250Z", "2026-11-30T18:04:05.250000Z"),
        (1796148245, "2026-12-01T18:04:05Z"),
        (1796148245.5, "2026-12-01T18:04:05.500000Z"),
    ],
)
def test_times_become_utc_iso_8601(value, expected):
    assert iso_utc(parse_timestamp(value)) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2026-11-30T18:04:05", "no time zone"),
        ("yesterday", "not an ISO 8601 time"),
        (True, "ISO 8601 time or Unix seconds"),
        ({"a": 1}, "ISO 8601 time or Unix seconds"),
        (1e20, "not a time Datapunk can store"),
        (float("inf"), "finite"),
    ],
)
def test_bad_times_are_refused_with_a_message(value, says):
    with pytest.raises(InvalidValue) as error:
        parse_timestamp(value, field="occurred_at")
    assert error.value.field == "occurred_at"
    assert says in error.value.message
