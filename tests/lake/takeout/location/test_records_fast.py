"""Records.json's fast path (msgspec, a chunk at a time) gives the generic reader's records."""

import io
import json
from pathlib import PurePosixPath

import orjson
import pytest

from apps.lake.normalize import location_row
from apps.lake.takeout import jsonstream
from apps.lake.takeout.location import records as location_records
from apps.lake.takeout.location import records_fast
from apps.lake.takeout.records import BadRecord, LocationRecord, MemberError

from .test_records import NEW_ITEM, OLD_ITEM

PATH = PurePosixPath("Takeout/Location History (Timeline)/Records.json")

PLAIN = {
    "latitudeE7": 387223692,
    "longitudeE7": -91389977,
    "accuracy": 7,
    "source": "WIFI",
    "deviceTag": 1234567890,
    "timestamp": "2024-03-01T08:00:37.000Z",
}

# Every shape the fast path meets: the common one, extras it knows, keys it does
# not know, nulls, other types, bad items, times it leaves to the generic reader.
ITEMS = [
    PLAIN,
    {**PLAIN, "timestamp": "2024-03-01T08:01:00.000Z"},
    NEW_ITEM,
    OLD_ITEM,
    {**PLAIN, "deviceTag": 99, "platformType": "ANDROID", "batteryCharging": True},
    {**PLAIN, "deviceTag": 99, "platformType": "ANDROID", "batteryCharging": 1},
    {**PLAIN, "deviceTag": 99, "platformType": "ANDROID", "batteryCharging": True},
    {**PLAIN, "verticalAccuracy": 3},
    {**PLAIN, "verticalAccuracy": 3.0},
    {**PLAIN, "altitude": None, "heading": 12.5, "velocity": 0},
    {**PLAIN, "someNewKey": {"nested": [1, 2, {"x": "}, {"}]}},
    {**PLAIN, "source": None},
    {**PLAIN, "source": 7},
    {**PLAIN, "timestamp": "2021-08-01T01:22:24.123456789Z"},
    {**PLAIN, "timestamp": "2021-08-01T03:22:24.5+02:00"},
    {**PLAIN, "timestamp": "2021-08-01T01:22:24"},
    {**PLAIN, "timestamp": "yesterday"},
    {key: value for key, value in PLAIN.items() if key != "timestamp"},
    {**OLD_ITEM, "timestampMs": "soon"},
    {**OLD_ITEM, "timestampMs": 1398441583147},
    {**PLAIN, "latitudeE7": 3956279296, "longitudeE7": 1512093000},
    {**PLAIN, "latitudeE7": 950000000},
    {**PLAIN, "latitudeE7": "499175387"},
    {**PLAIN, "activity": [{"activity": [{"type": "STILL", "confidence": 90}]}]},
    {**PLAIN, "serverTimestamp": "2024-03-01T08:00:38.000Z", "deviceTag": None},
    {**PLAIN, "source": "GPS\u0000", "platformType": "caf\u00e9 \u2603"},
    ["not", "an", "object"],
    None,
    PLAIN,
]


def google_layout(items):
    """Takeout's own: two-space indent, items joined by "}, {" on the closing line."""
    text = json.dumps({"locations": items}, indent=2)
    return text.replace("\n    },\n    {", "\n  }, {").encode()


def one_per_line(items):
    lines = ",\n".join("    " + json.dumps(item) for item in items)
    return ('{\n  "locations": [\n' + lines + "\n  ]\n}\n").encode()


LAYOUTS = {
    "google": google_layout,
    "one per line": one_per_line,
    "indent 2": lambda items: json.dumps({"locations": items}, indent=2).encode(),
    "compact": lambda items: json.dumps({"locations": items}, separators=(",", ":")).encode(),
    "keys after": lambda items: json.dumps({"locations": items, "other": [1]}).encode(),
    "keys before": lambda items: json.dumps({"other": [1], "locations": items}).encode(),
    "bom, crlf": lambda items: (
        b"\xef\xbb\xbf" + json.dumps({"locations": items}, indent=2).replace("\n", "\r\n").encode()
    ),
}


def generic(raw: bytes):
    """The reference: ijson item by item, each through the generic reader."""
    stream = io.BytesIO(raw)
    return list(location_records._from_items(jsonstream.iter_items(stream, "locations.item")))


def comparable(record):
    if isinstance(record, BadRecord):
        return ("bad", record.reason, record.excerpt)
    # The stored row decides: the values COPY sends, whichever path read the fix;
    # data as jsonb keeps it (key order aside: 1 and true, 3 and 3.0 stay apart).
    row = location_row(record, 1, 2)
    data = row[7] and orjson.dumps(orjson.loads(row[7][1:]), option=orjson.OPT_SORT_KEYS)
    return ("point", record.data, row[:7], data, row[8:])


def fast(raw: bytes):
    return list(location_records.parse(io.BytesIO(raw), PATH))


@pytest.mark.parametrize("block", [64, 300, 1 << 20])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_fast_path_gives_the_generic_records(layout, block, monkeypatch):
    monkeypatch.setattr(records_fast, "_BLOCK", block)
    raw = LAYOUTS[layout](ITEMS * 3)
    got, expected = fast(raw), generic(raw)
    assert [comparable(r) for r in got] == [comparable(r) for r in expected]
    assert sum(isinstance(r, LocationRecord) for r in got) > len(ITEMS)
    if layout != "keys before" and block < 1 << 20:  # read by the fast path, in part
        assert any(isinstance(r, LocationRecord) and r.data_json for r in got)


def test_bad_items_keep_their_reasons():
    got = fast(google_layout(ITEMS))
    reasons = [r.reason for r in got if isinstance(r, BadRecord)]
    assert any("not an ISO 8601 timestamp" in reason for reason in reasons)
    assert any("location without timestamp" in reason for reason in reasons)
    assert any("outside the globe" in reason for reason in reasons)
    assert "location is not a JSON object" in reasons


def test_runs_of_the_same_fields_share_data_and_its_json():
    raw = google_layout([PLAIN] * 50 + [{**PLAIN, "deviceTag": 7}] * 50)
    records = fast(raw)
    assert len({id(r.data) for r in records}) == 2
    assert len({id(r.data_json) for r in records}) == 2
    assert records[0].data == {"deviceTag": 1234567890}
    assert orjson.loads(records[-1].data_json) == {"deviceTag": 7}


def test_a_type_flip_in_repeating_fields_is_kept():
    # In Python True == 1 and 3 == 3.0; in JSON (and jsonb) they differ.
    flips = [{**PLAIN, "batteryCharging": True}, {**PLAIN, "batteryCharging": 1}]
    flips += [{**PLAIN, "verticalAccuracy": 3}, {**PLAIN, "verticalAccuracy": 3.0}]
    rows = [location_row(r)[7] for r in fast(one_per_line(flips))]
    assert rows[0] != rows[1] and rows[2] != rows[3]
    assert orjson.loads(rows[1][1:]) == {"deviceTag": 1234567890, "batteryCharging": 1}


def test_a_broken_chunk_in_the_middle_yields_what_came_before(monkeypatch):
    monkeypatch.setattr(records_fast, "_BLOCK", 512)
    raw = bytearray(google_layout([PLAIN] * 100))
    middle = raw.index(b'"source"', len(raw) // 2)
    raw[middle : middle + 8] = b'"sou\xffe"'  # not UTF-8
    stream = location_records.parse(io.BytesIO(bytes(raw)), PATH)
    read = []
    with pytest.raises(MemberError, match="UTF-8"):
        for record in stream:
            read.append(record)
    assert 20 < len(read) < 100
    assert all(isinstance(r, LocationRecord) for r in read)


def test_an_item_larger_than_a_block_is_read(monkeypatch):
    monkeypatch.setattr(records_fast, "_BLOCK", 64)
    big = {**NEW_ITEM, "activity": [{"activity": [{"type": "STILL", "confidence": 1}]}] * 200}
    records = fast(google_layout([PLAIN, big, PLAIN]))
    assert [len(r.data.get("activity", [])) for r in records] == [0, 200, 0]


@pytest.mark.parametrize("cut", range(1, 12))
def test_a_block_that_ends_between_the_first_two_items_still_takes_the_fast_path(cut, monkeypatch):
    raw = google_layout([PLAIN, PLAIN, PLAIN])
    first_end = raw.index(b"}, {") + 1
    monkeypatch.setattr(records_fast, "_BLOCK", first_end + cut - 6)
    records = fast(raw)
    assert len(records) == 3
    assert all(r.data_json is not None for r in records)  # none went through ijson
