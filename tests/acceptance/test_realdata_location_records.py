"""Records.json parser against real exports (counts from realdata/SOURCES.md)."""

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import pytest

from apps.lake.takeout.fields import from_epoch_ms
from apps.lake.takeout.location import records as location_records
from apps.lake.takeout.records import BadRecord, LocationRecord

PRAGUE = "track/testdata/prague-2014-04-25.json"  # REAL, 2014, timestampMs
KGEO = "kgeo-timeline/parser/src/test/resources/records.json"  # REAL, 2015, ISO timestamp
SQLITE = (
    "google-takeout-to-sqlite/tests/zip_contents/Takeout/Location History/Location History.json"
)
GTP = "google_takeout_parser/tests/test_json_extracted/"


def parse(realdata: Path, relative: str) -> list:
    with open(realdata / relative, "rb") as stream:
        return list(location_records.parse(stream, PurePosixPath(relative)))


def test_prague_old_format(realdata):
    records = parse(realdata, PRAGUE)
    assert len(records) == 2039
    assert all(isinstance(r, LocationRecord) for r in records)
    assert records[0].recorded_at == from_epoch_ms(1398441583147)
    assert records[-1].recorded_at == from_epoch_ms(1398679221669)
    times = [r.recorded_at for r in records]
    assert times == sorted(times)
    first = records[0]
    assert (first.latitude, first.longitude, first.accuracy_m, first.altitude_m) == (
        49.9175387,
        14.7080015,
        9,
        427,
    )
    assert sum(r.altitude_m is not None for r in records) == 602
    # Only mapped fields in these items: nothing left over for data.
    assert all(r.data is None for r in records)


def test_prague_agrees_with_google_takeout_parser(realdata):
    parse_json = pytest.importorskip("google_takeout_parser.parse_json")
    theirs = list(parse_json._parse_location_history(realdata / PRAGUE))
    ours = parse(realdata, PRAGUE)
    # google_takeout_parser drops the milliseconds of timestampMs; we keep them.
    assert [(r.recorded_at.replace(microsecond=0), r.latitude, r.longitude) for r in ours] == [
        (loc.dt, pytest.approx(loc.lat, abs=1e-9), pytest.approx(loc.lng, abs=1e-9))
        for loc in theirs
    ]
    assert ours[0].recorded_at.microsecond == 147000


def test_kgeo_records_iso_format(realdata):
    records = parse(realdata, KGEO)
    assert len(records) == 12
    assert all(isinstance(r, LocationRecord) for r in records)
    assert records[0].recorded_at == datetime(2015, 10, 10, 18, 47, 2, 597000, tzinfo=UTC)
    assert records[-1].recorded_at == datetime(2015, 10, 10, 18, 58, 40, 399000, tzinfo=UTC)
    assert sum("activity" in r.data for r in records) == 8
    assert sum("deviceDesignation" in r.data for r in records) == 2
    assert all(isinstance(r.data["deviceTag"], int) for r in records)
    assert Counter(r.source for r in records) == {"WIFI": 11, "UNKNOWN": 1}
    assert (records[0].latitude, records[0].longitude) == (43.7789954, -79.4176419)


@pytest.mark.parametrize(
    ("name", "expected", "with_activity"),
    [
        ("test_location_2024.json", datetime(2014, 7, 18, 14, 59, 59, 914000, tzinfo=UTC), True),
        ("test_location_new.json", datetime(2017, 12, 10, 23, 14, 58, 30000, tzinfo=UTC), False),
        ("test_location_old.json", from_epoch_ms(1512947698030), False),
    ],
)
def test_google_takeout_parser_samples(realdata, name, expected, with_activity):
    [record] = parse(realdata, GTP + name)
    assert isinstance(record, LocationRecord)
    assert record.recorded_at == expected
    assert (record.latitude, record.longitude) == (35.1324213, -112.2434441)
    assert record.accuracy_m == 10
    assert (record.data is not None and "activity" in record.data) is with_activity


def test_google_takeout_to_sqlite_location_history_json(realdata):
    assert location_records.matches(PurePosixPath("Takeout/Location History/Location History.json"))
    records = parse(realdata, SQLITE)
    assert len(records) == 2
    assert not any(isinstance(r, BadRecord) for r in records)
    assert records[0].recorded_at == from_epoch_ms(1437263846012)
    assert [r.data is not None and "activity" in r.data for r in records] == [False, True]


@pytest.mark.parametrize("relative", [PRAGUE, KGEO, SQLITE])
def test_sniff_recognises_the_real_files(realdata, relative):
    assert location_records.sniff((realdata / relative).read_bytes()[:8192])
