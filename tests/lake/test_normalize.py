"""The normalizer's JSON: what PostgreSQL's jsonb can hold, nothing else changed."""

import json

import orjson
import pytest

from apps.lake.normalize import canonical_json, jsonb_binary


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("What does \\u0000 mean?", "What does \\u0000 mean?"),  # the text, not a NUL
        ("nul\x00here", "nulhere"),
        ("\\\x00", "\\"),  # a backslash, then a NUL
        ("\\\\u0000 and \x00", "\\\\u0000 and "),
        ("plain", "plain"),
    ],
)
def test_nul_characters_are_dropped_and_text_that_looks_like_one_is_kept(value, stored):
    assert json.loads(canonical_json({"title": value})) == {"title": stored}
    assert orjson.loads(jsonb_binary({"title": value})[1:]) == {"title": stored}


def test_copy_fields_leave_the_identity_but_stay_in_the_data():
    from datetime import UTC, datetime

    from apps.lake.normalize import event_row
    from apps.lake.takeout.records import EventRecord

    def row(data, copy_fields=()):
        return event_row(
            EventRecord(
                kind="play.install",
                occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
                data=data,
                copy_fields=copy_fields,
            )
        )

    fields = ("install.lastUpdateTime", "views", "missing.key", "title.not_a_dict")
    first = {"install": {"doc": "app", "lastUpdateTime": "2024"}, "views": 1, "title": "x"}
    later = {"install": {"doc": "app", "lastUpdateTime": "2026"}, "views": 9, "title": "x"}
    other = {"install": {"doc": "other", "lastUpdateTime": "2024"}, "views": 1, "title": "x"}

    assert row(first, fields).content_hash == row(later, fields).content_hash
    assert row(first, fields).content_hash != row(other, fields).content_hash
    assert row(first).content_hash != row(later).content_hash
    assert json.loads(row(first, fields).data_json) == first
    assert first["install"]["lastUpdateTime"] == "2024"  # the record's data is not changed
