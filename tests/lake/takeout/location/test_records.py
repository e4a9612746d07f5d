"""Records.json / Location History.json: raw position fixes."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout.fields import e7_to_degrees, from_epoch_ms
from apps.lake.takeout.location import records as location_records
from apps.lake.takeout.records import BadRecord, LocationRecord, MemberError, excerpt_of

PATH = PurePosixPath("Takeout/Location History (Timeline)/Records.json")

# Shaped like a 2022+ export: ISO timestamps, device fields, activity guesses.
NEW_ITEM = {
    "latitudeE7": 437789954,
    "longitudeE7": -794176419,
    "accuracy": 30,
    "activity": [
        {
            "activity": [
                {"type": "STILL", "confidence": 54},
                {"type": "IN_VEHICLE", "confidence": 23},
            ],
            "timestamp": "2015-10-10T18:47:01.532Z",
        }
    ],
    "source": "WIFI",
    "deviceTag": 1433424142,
    "platformType": "ANDROID",
    "verticalAccuracy": 2,
    "batteryCharging": False,
    "activeWifiScan": {"accessPoints": [{"mac": "123456789012", "strength": -61}]},
    "timestamp": "2015-10-10T18:47:02.597Z",
}
# Shaped like a 2014 export: timestampMs as a string, nothing unmapped.
OLD_ITEM = {
    "timestampMs": "1398441583147",
    "latitudeE7": 499175387,
    "longitudeE7": 147080015,
    "accuracy": 9,
    "altitude": 427,
    "velocity": 3,
    "heading": 270,
}


def parse(items_or_bytes, path=PATH):
    raw = (
        items_or_bytes
        if isinstance(items_or_bytes, bytes)
        else json.dumps({"locations": items_or_bytes}, indent=2).encode()
    )
    return list(location_records.parse(io.BytesIO(raw), path))


def test_iso_item_maps_fields_and_keeps_the_rest_in_data():
    [record] = parse([NEW_ITEM])
    assert isinstance(record, LocationRecord)
    assert record.recorded_at == datetime(2015, 10, 10, 18, 47, 2, 597000, tzinfo=UTC)
    assert (record.latitude, record.longitude) == (43.7789954, -79.4176419)
    assert record.accuracy_m == 30
    assert record.source == "WIFI"
    assert record.data == {
        key: NEW_ITEM[key]
        for key in (
            "activity",
            "deviceTag",
            "platformType",
            "verticalAccuracy",
            "batteryCharging",
            "activeWifiScan",
        )
    }


def test_old_item_with_timestamp_ms_has_no_data_left():
    [record] = parse([OLD_ITEM])
    assert record.recorded_at == datetime(2014, 4, 25, 15, 59, 43, 147000, tzinfo=UTC)
    assert (record.latitude, record.longitude) == (49.9175387, 14.7080015)
    assert (record.accuracy_m, record.altitude_m, record.velocity_mps, record.heading_deg) == (
        9,
        427,
        3,
        270,
    )
    assert record.source == ""
    assert record.data is None


@pytest.mark.parametrize(
    "millis", [0, 1, 999, 1398441583147, 1398679221669, 1437263905529, 4102444799999, -1500]
)
def test_fast_millisecond_path_matches_from_epoch_ms(millis):
    [record] = parse([{**OLD_ITEM, "timestampMs": str(millis)}])
    assert record.recorded_at == from_epoch_ms(millis)


@pytest.mark.parametrize(
    "e7", [0, 1, -1, 499175387, -794176419, 900000000, -900000000, 123456789, 333333333]
)
def test_fast_e7_path_matches_e7_to_degrees(e7):
    [record] = parse([{**OLD_ITEM, "latitudeE7": e7, "longitudeE7": -e7}])
    assert record.latitude == e7_to_degrees(e7)
    assert record.longitude == e7_to_degrees(-e7)


def test_e7_given_as_strings_still_reads():
    [record] = parse([{**OLD_ITEM, "latitudeE7": "499175387", "longitudeE7": "147080015"}])
    assert (record.latitude, record.longitude) == (49.9175387, 14.7080015)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2021-08-01T01:22:24Z", datetime(2021, 8, 1, 1, 22, 24, tzinfo=UTC)),
        ("2021-08-01T01:22:24.123456789Z", datetime(2021, 8, 1, 1, 22, 24, 123456, tzinfo=UTC)),
        (
            "2021-08-01T03:22:24.5+02:00",
            datetime(2021, 8, 1, 3, 22, 24, 500000, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2021-08-01T01:22:24", datetime(2021, 8, 1, 1, 22, 24, tzinfo=UTC)),
    ],
)
def test_timestamp_variants(stamp, expected):
    [record] = parse([{**OLD_ITEM, "timestampMs": None, "timestamp": stamp}])
    assert record.recorded_at == expected
    assert record.recorded_at.utcoffset() == expected.utcoffset()


def test_iso_timestamp_wins_over_timestamp_ms():
    [record] = parse([{**OLD_ITEM, "timestamp": "2020-01-01T00:00:00Z"}])
    assert record.recorded_at == datetime(2020, 1, 1, tzinfo=UTC)


def test_a_source_that_is_not_text_stays_in_data():
    [record] = parse([{**OLD_ITEM, "source": 7}])
    assert record.source == ""
    assert record.data == {"source": 7}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"latitudeE7": None}, "location without latitudeE7"),
        ({"longitudeE7": None}, "location without longitudeE7"),
        ({"timestampMs": None}, "location without timestamp"),
        ({"timestampMs": "soon"}, "not a millisecond timestamp"),
        ({"timestamp": "yesterday"}, "not an ISO 8601 timestamp"),
        ({"latitudeE7": 950000000}, "outside the globe"),
        ({"longitudeE7": -1850000000}, "outside the globe"),
        ({"latitudeE7": "north"}, "not an E7 coordinate"),
        ({"accuracy": "10 m"}, "must be numbers"),
        ({"heading": [1]}, "must be numbers"),
    ],
)
def test_unreadable_items_are_quarantined_with_their_fields(change, reason):
    item = {key: value for key, value in {**OLD_ITEM, **change}.items() if value is not None}
    records = parse([OLD_ITEM, item, OLD_ITEM])
    assert [type(r) for r in records] == [LocationRecord, BadRecord, LocationRecord]
    bad = records[1]
    assert reason in bad.reason
    # The excerpt shows the item as it was, mapped fields included.
    for key, value in item.items():
        assert f"'{key}': {value!r}" in bad.excerpt


@pytest.mark.parametrize("item", [["a", "list"], "text", 42, None])
def test_an_item_that_is_not_an_object_is_quarantined(item):
    [bad] = parse([item])
    assert isinstance(bad, BadRecord)
    assert bad.reason == "location is not a JSON object"
    assert bad.excerpt == excerpt_of(item)


def test_byte_order_mark_is_skipped():
    raw = b"\xef\xbb\xbf" + json.dumps({"locations": [OLD_ITEM]}).encode()
    assert isinstance(parse(raw)[0], LocationRecord)


def test_reads_a_zip_member_front_to_back(tmp_path):
    archive = tmp_path / "takeout.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(str(PATH), json.dumps({"locations": [OLD_ITEM] * 500}))
    with zipfile.ZipFile(archive) as zf, zf.open(str(PATH)) as member:
        records = list(location_records.parse(member, PATH))
    assert len(records) == 500
    assert all(isinstance(r, LocationRecord) for r in records)


def test_empty_locations_yield_nothing():
    assert parse([]) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"locations": [{"latitudeE7": 1, "longitudeE7": 2, "timestampMs": "3"}, {"lat',
        b'{"locations": [',
        b"not json at all",
        b'{"locations": [{"source": "caf\xe9"}]}',
    ],
)
def test_broken_file_raises_member_error(raw):
    with pytest.raises(MemberError):
        parse(raw)


def test_truncation_still_yields_what_came_before():
    raw = json.dumps({"locations": [OLD_ITEM, OLD_ITEM]}).encode()[:-30]
    stream = location_records.parse(io.BytesIO(raw), PATH)
    assert isinstance(next(stream), LocationRecord)
    with pytest.raises(MemberError, match="invalid or truncated JSON"):
        list(stream)


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Location History (Timeline)/Records.json",
        "Takeout/Location History/Records.json",
        "Takeout/Location History/Location History.json",
        "Takeout/Location History/LocationHistory.json",
        "Takeout/Standortverlauf/Records.json",
        "Takeout/Standortverlauf (Zeitachse)/Records.json",
        "Takeout/Historique des positions/Records.json",
        "Takeout/Historial de ubicaciones/Records.json",
        "takeout-20240101/Takeout/LOCATION HISTORY/RECORDS.JSON",
        "Records.json",
        "Location History.json",
    ],
)
def test_matches(path):
    assert location_records.matches(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Location History (Timeline)/Settings.json",
        "Takeout/Location History (Timeline)/Timeline Edits.json",
        "Takeout/Location History/Semantic Location History/2021/2021_AUGUST.json",
        "Takeout/Fit/Records.json",
        "Takeout/Keep/Records.json",
        "Timeline.json",
        "records.csv",
    ],
)
def test_does_not_match(path):
    assert not location_records.matches(PurePosixPath(path))


def test_sniff_recognises_records_json():
    head = json.dumps({"locations": [NEW_ITEM]}, indent=2).encode()[:8192]
    assert location_records.sniff(head)
    assert location_records.sniff(b'\xef\xbb\xbf\n{ "locations" : [ ] }')


@pytest.mark.parametrize(
    "head",
    [
        b'{"timelineObjects": [{"placeVisit": {}}]}',
        b'{"semanticSegments": [], "rawSignals": []}',
        b'[{"startTime": "2024-01-01T00:00:00Z", "visit": {}}]',
        b'[{"header": "Maps", "title": "Searched for cafes", "time": "2020-01-01T00:00:00Z"}]',
        b'{"locations": [{"name": "Office", "address": "Main St 1"}]}',
        b'{"locations": "none"}',
        b"",
    ],
)
def test_sniff_rejects_other_files(head):
    assert not location_records.sniff(head)


def test_parser_entry():
    [parser] = location_records.PARSERS
    assert parser.product == "location.records"
    assert parser.matches is location_records.matches


@pytest.mark.parametrize("as_text", [False, True])
def test_e7_written_as_unsigned_32_bit_is_turned_back(as_text):
    # Sydney, -33.8688 151.2093, as some exports wrote it: latitudeE7 + 2^32.
    lat, lng = 3956279296, 1512093000
    item = {**OLD_ITEM, "latitudeE7": lat, "longitudeE7": lng}
    if as_text:
        item = {**item, "latitudeE7": str(lat), "longitudeE7": str(lng)}
    [record] = parse([item])
    assert (record.latitude, record.longitude) == (-33.8688, 151.2093)


def test_e7_beyond_32_bits_is_still_off_the_globe():
    [record] = parse([{**OLD_ITEM, "latitudeE7": 2**32 + 5, "longitudeE7": 0}])
    assert "outside the globe" in record.reason
