"""On-device Timeline exports: Android Timeline.json and iOS location-history.json."""

import io
import json
import unicodedata
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout.location import device as location_device
from apps.lake.takeout.records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MemberError,
    PlaceRecord,
    VisitRecord,
)

ANDROID_PATH = PurePosixPath("Timeline.json")
IOS_PATH = PurePosixPath("location-history.json")
CEST = timezone(timedelta(hours=2))

VISIT_SEGMENT = {
    "startTime": "2024-05-01T08:00:00.000+02:00",
    "endTime": "2024-05-01T12:30:00.000+02:00",
    "startTimeTimezoneUtcOffsetMinutes": 120,
    "endTimeTimezoneUtcOffsetMinutes": 120,
    "visit": {
        "hierarchyLevel": 0,
        "probability": 0.85,
        "topCandidate": {
            "placeId": "ChIJwork",
            "semanticType": "INFERRED_WORK",
            "probability": 0.75,
            "placeLocation": {"latLng": "48.1371234°, 11.5754321°"},
        },
    },
}
ACTIVITY_SEGMENT = {
    "startTime": "2024-05-01T12:30:00.000+02:00",
    "endTime": "2024-05-01T13:00:00.000+02:00",
    "activity": {
        "start": {"latLng": "48.1371234°, 11.5754321°"},
        "end": {"latLng": "48.1500000°, 11.6000000°"},
        "distanceMeters": 2450.5,
        "probability": 0.9,
        "topCandidate": {"type": "CYCLING", "probability": 0.8},
        "parking": {"location": {"latLng": "48.15°, 11.6°"}, "startTime": "2024-05-01T13:00:00Z"},
    },
}
PATH_SEGMENT = {
    "startTime": "2024-05-01T12:00:00.000+02:00",
    "endTime": "2024-05-01T14:00:00.000+02:00",
    "timelinePath": [
        {"point": "48.1371234°, 11.5754321°", "time": "2024-05-01T12:31:00.000+02:00"},
        {"point": "48.1400000°, 11.5800000°", "time": "2024-05-01T12:40:00.000+02:00"},
    ],
}
MEMORY_SEGMENT = {
    "startTime": "2024-05-03T00:00:00.000+02:00",
    "endTime": "2024-05-06T00:00:00.000+02:00",
    "timelineMemory": {
        "trip": {
            "distanceFromOriginKms": 612,
            "destinations": [{"identifier": {"placeId": "ChIJvienna"}}],
        }
    },
}
POSITION = {
    "position": {
        "LatLng": "48.1371234°, 11.5754321°",
        "accuracyMeters": 13,
        "altitudeMeters": 519.4,
        "source": "WIFI",
        "timestamp": "2024-05-01T08:01:02.345+02:00",
        "speedMetersPerSecond": 0.25,
        "extraField": "kept",
    }
}
ACTIVITY_RECORD = {
    "activityRecord": {
        "probableActivities": [
            {"type": "STILL", "confidence": 0.1},
            {"type": "WALKING", "confidence": 0.85},
        ],
        "timestamp": "2024-05-01T08:05:00.000+02:00",
    }
}
WIFI_SCAN = {
    "wifiScan": {
        "deliveryTime": "2024-05-01T08:06:00.000+02:00",
        "devicesRecords": [{"mac": 123456789012, "rawRssi": -61}, {"mac": 5, "rawRssi": -80}],
    }
}
PROFILE = {
    "frequentPlaces": [
        {"placeId": "ChIJhome", "placeLocation": "48.1°, 11.5°", "label": "HOME"},
        {"placeId": "ChIJwork", "placeLocation": "48.1371234°, 11.5754321°", "label": "WORK"},
    ],
    "persona": {"travelModeAffinities": [{"mode": "WALKING", "affinity": 0.5}]},
}


def android(**parts):
    return {
        "semanticSegments": parts.get(
            "segments", [VISIT_SEGMENT, ACTIVITY_SEGMENT, PATH_SEGMENT, MEMORY_SEGMENT]
        ),
        "rawSignals": parts.get("signals", [POSITION, ACTIVITY_RECORD, WIFI_SCAN]),
        "userLocationProfile": parts.get("profile", PROFILE),
    }


# iOS: a bare array; numbers are strings, points "geo:lat,lng", "placeID".
IOS = [
    {
        "endTime": "2024-05-01T12:30:00.000+02:00",
        "startTime": "2024-05-01T08:00:00.000+02:00",
        "visit": {
            "hierarchyLevel": "0",
            "topCandidate": {
                "probability": "0.750000",
                "semanticType": "Work",
                "placeID": "ChIJwork",
                "placeLocation": "geo:48.137123,11.575432",
            },
            "probability": "0.850000",
        },
    },
    {
        "endTime": "2024-05-01T13:00:00.000+02:00",
        "startTime": "2024-05-01T12:30:00.000+02:00",
        "activity": {
            "probability": "0.900000",
            "end": "geo:48.150000,11.600000",
            "topCandidate": {"type": "cycling", "probability": "0.800000"},
            "distanceMeters": "2450.500000",
            "start": "geo:48.137123,11.575432",
        },
    },
    {
        "endTime": "2024-05-03T00:00:00.000+02:00",
        "startTime": "2024-05-01T00:00:00.000+02:00",
        "timelineMemory": {
            "destinations": [{"identifier": "ChIJvienna"}],
            "distanceFromOriginKms": "612",
        },
    },
    {
        "endTime": "2024-05-01T14:00:00.000+02:00",
        "startTime": "2024-05-01T12:00:00.000+02:00",
        "timelinePath": [
            {"point": "geo:48.137123,11.575432", "durationMinutesOffsetFromStartTime": "31"},
            {"point": "geo:48.140000,11.580000", "durationMinutesOffsetFromStartTime": "40"},
        ],
    },
]


def parse(doc_or_bytes, path=ANDROID_PATH):
    raw = doc_or_bytes if isinstance(doc_or_bytes, bytes) else json.dumps(doc_or_bytes).encode()
    return list(location_device.parse(io.BytesIO(raw), path))


def of_type(records, cls, kind=None):
    return [r for r in records if isinstance(r, cls) and (kind is None or r.kind == kind)]


def test_android_visit():
    [visit] = of_type(parse(android()), VisitRecord)
    assert visit.started_at == datetime(2024, 5, 1, 8, 0, tzinfo=CEST)
    assert visit.started_at.utcoffset() == timedelta(hours=2)
    assert visit.ended_at == datetime(2024, 5, 1, 12, 30, tzinfo=CEST)
    assert (visit.latitude, visit.longitude) == (48.1371234, 11.5754321)
    assert visit.place_id == "ChIJwork"
    assert visit.semantic_type == "INFERRED_WORK"
    assert visit.confidence == 0.75
    # The local-time offsets are kept, in data only.
    assert visit.data == VISIT_SEGMENT


def test_android_activity():
    [event] = of_type(parse(android()), EventRecord, "location.activity")
    assert event.occurred_at == datetime(2024, 5, 1, 12, 30, tzinfo=CEST)
    assert event.ended_at == datetime(2024, 5, 1, 13, 0, tzinfo=CEST)
    assert event.title == "CYCLING"
    assert (event.latitude, event.longitude) == (48.1371234, 11.5754321)
    assert event.data == ACTIVITY_SEGMENT


def test_android_timeline_path_points():
    points = [r for r in parse(android()) if getattr(r, "source", "") == "timelinePath"]
    assert [(p.recorded_at, p.latitude, p.longitude) for p in points] == [
        (datetime(2024, 5, 1, 12, 31, tzinfo=CEST), 48.1371234, 11.5754321),
        (datetime(2024, 5, 1, 12, 40, tzinfo=CEST), 48.14, 11.58),
    ]
    assert all(p.data is None for p in points)


def test_android_memory():
    [memory] = of_type(parse(android()), EventRecord, "location.memory")
    assert memory.occurred_at == datetime(2024, 5, 3, tzinfo=CEST)
    assert memory.ended_at == datetime(2024, 5, 6, tzinfo=CEST)
    assert memory.title == "Trip"
    assert memory.text == "612 km from origin"
    assert memory.data == MEMORY_SEGMENT


def test_segment_with_visit_and_path_keeps_points_out_of_the_visit_data():
    segment = {**VISIT_SEGMENT, "timelinePath": PATH_SEGMENT["timelinePath"]}
    records = parse(android(segments=[segment], signals=[], profile={}))
    [visit] = of_type(records, VisitRecord)
    assert "timelinePath" not in visit.data
    assert len(of_type(records, LocationRecord)) == 2


def test_android_raw_position():
    [position] = [r for r in parse(android()) if getattr(r, "source", "") == "WIFI"]
    assert position.recorded_at == datetime(2024, 5, 1, 8, 1, 2, 345000, tzinfo=CEST)
    assert (position.latitude, position.longitude) == (48.1371234, 11.5754321)
    assert position.accuracy_m == 13
    assert position.altitude_m == 519.4
    assert position.velocity_mps == 0.25
    assert position.data == {"extraField": "kept"}


def test_android_activity_record_and_wifi_scan():
    records = parse(android())
    [activity] = of_type(records, EventRecord, "location.activity_record")
    assert activity.occurred_at == datetime(2024, 5, 1, 8, 5, tzinfo=CEST)
    assert activity.title == "WALKING"
    assert activity.data == ACTIVITY_RECORD["activityRecord"]
    [scan] = of_type(records, EventRecord, "location.wifi_scan")
    assert scan.occurred_at == datetime(2024, 5, 1, 8, 6, tzinfo=CEST)
    assert scan.title == "2 Wi-Fi access points"
    assert scan.data == WIFI_SCAN["wifiScan"]


def test_signal_with_several_kinds_yields_each():
    records = parse(android(segments=[], signals=[{**POSITION, **ACTIVITY_RECORD}], profile={}))
    assert [type(r) for r in records] == [LocationRecord, EventRecord]


def test_frequent_places():
    places = of_type(parse(android()), PlaceRecord)
    assert [(p.place_id, p.latitude, p.longitude, p.semantic_type) for p in places] == [
        ("ChIJhome", 48.1, 11.5, "HOME"),
        ("ChIJwork", 48.1371234, 11.5754321, "WORK"),
    ]
    assert places[0].data == PROFILE["frequentPlaces"][0]


def test_android_key_order_does_not_matter():
    doc = android()
    reordered = {key: doc[key] for key in ("userLocationProfile", "rawSignals", "semanticSegments")}
    assert sorted(map(repr, parse(reordered))) == sorted(map(repr, parse(doc)))


def test_android_counts_and_no_bad_records():
    records = parse(android())
    assert len(records) == 1 + 1 + 2 + 1 + 3 + 2
    assert not of_type(records, BadRecord)


def test_ios_visit_with_string_numbers():
    [visit] = of_type(parse(IOS, IOS_PATH), VisitRecord)
    assert visit.started_at == datetime(2024, 5, 1, 8, 0, tzinfo=CEST)
    assert (visit.latitude, visit.longitude) == (48.137123, 11.575432)
    assert visit.place_id == "ChIJwork"
    assert visit.semantic_type == "Work"
    assert visit.confidence == 0.75
    assert visit.data == IOS[0]


def test_ios_activity_and_memory():
    records = parse(IOS, IOS_PATH)
    [activity] = of_type(records, EventRecord, "location.activity")
    assert activity.title == "cycling"
    assert (activity.latitude, activity.longitude) == (48.137123, 11.575432)
    assert activity.data == IOS[1]
    [memory] = of_type(records, EventRecord, "location.memory")
    assert memory.title == "Trip"
    assert memory.text == "612 km from origin"


def test_ios_path_points_get_their_time_from_the_offset():
    points = of_type(parse(IOS, IOS_PATH), LocationRecord)
    assert [(p.recorded_at, p.latitude, p.longitude, p.source) for p in points] == [
        (datetime(2024, 5, 1, 12, 31, tzinfo=CEST), 48.137123, 11.575432, "timelinePath"),
        (datetime(2024, 5, 1, 12, 40, tzinfo=CEST), 48.14, 11.58, "timelinePath"),
    ]


def test_either_parser_reads_either_layout():
    # Users rename exports: the content decides, not the parser chosen by name.
    android_parser, ios_parser = location_device.PARSERS
    raw_ios = json.dumps(IOS).encode()
    raw_android = json.dumps(android()).encode()
    assert len(list(android_parser.parse(io.BytesIO(raw_ios), ANDROID_PATH))) == 5
    assert len(list(ios_parser.parse(io.BytesIO(raw_android), IOS_PATH))) == 10


@pytest.mark.parametrize(
    ("segment", "reason"),
    [
        ({"startTime": "2024-05-01T08:00:00Z"}, "segment has no visit"),
        ({**VISIT_SEGMENT, "startTime": "8 o'clock"}, "unreadable visit: not an ISO 8601"),
        (
            {k: v for k, v in VISIT_SEGMENT.items() if k != "startTime"},
            "unreadable visit: no startTime",
        ),
        (
            {**VISIT_SEGMENT, "visit": {"topCandidate": {"placeLocation": {"latLng": "north"}}}},
            "not a coordinate pair",
        ),
        ({**ACTIVITY_SEGMENT, "activity": "moving"}, "unreadable activity: unexpected structure"),
        ({**MEMORY_SEGMENT, "timelineMemory": {"trip": None}}, "unreadable timelineMemory"),
        ({**PATH_SEGMENT, "timelinePath": {"point": "1, 2"}}, "timelinePath is not a list"),
        ("segment", "segment is not a JSON object"),
    ],
)
def test_unreadable_segments_are_quarantined(segment, reason):
    records = parse(android(segments=[VISIT_SEGMENT, segment], signals=[], profile={}))
    assert isinstance(records[0], VisitRecord)
    [bad] = records[1:]
    assert isinstance(bad, BadRecord)
    assert reason in bad.reason


def test_bad_path_points_are_quarantined_one_by_one():
    segment = {
        **PATH_SEGMENT,
        "timelinePath": [
            {"point": "95.0°, 11.0°", "time": "2024-05-01T12:31:00Z"},
            {"point": "48.0°, 11.0°"},
            {"point": "48.0°, 11.0°", "time": "2024-05-01T12:32:00Z"},
            "48.0°, 11.0°",
        ],
    }
    records = parse(android(segments=[segment], signals=[], profile={}))
    assert [type(r) for r in records] == [BadRecord, BadRecord, LocationRecord, BadRecord]
    assert "outside the globe" in records[0].reason
    assert "no durationMinutesOffsetFromStartTime" in records[1].reason


def test_ios_point_with_bad_offset():
    segment = {
        **IOS[3],
        "timelinePath": [{"point": "geo:1,2", "durationMinutesOffsetFromStartTime": "soon"}],
    }
    [bad] = parse([segment], IOS_PATH)
    assert isinstance(bad, BadRecord)
    assert "soon" in bad.reason


@pytest.mark.parametrize(
    ("signal", "reason"),
    [
        ({"position": {"LatLng": "48.1°, 11.5°"}}, "unreadable position: no timestamp"),
        ({"position": {"timestamp": "2024-05-01T08:00:00Z"}}, "unreadable position: no LatLng"),
        ({"position": {**POSITION["position"], "LatLng": "?"}}, "not a coordinate pair"),
        ({"position": {**POSITION["position"], "accuracyMeters": "ten"}}, "could not convert"),
        ({"activityRecord": {"probableActivities": []}}, "unreadable activityRecord: no timestamp"),
        ({"wifiScan": {"devicesRecords": []}}, "unreadable wifiScan: no deliveryTime"),
        ({"barometer": {"hPa": 1013}}, "unknown raw signal 'barometer'"),
        ({}, "raw signal is not a JSON object"),
    ],
)
def test_unreadable_raw_signals_are_quarantined(signal, reason):
    [bad] = parse(android(segments=[], signals=[signal], profile={}))
    assert isinstance(bad, BadRecord)
    assert reason in bad.reason


@pytest.mark.parametrize(
    "place", [{"placeLocation": "48.1°, 11.5°"}, {"placeId": "", "placeLocation": "1°, 2°"}, "home"]
)
def test_unreadable_frequent_places_are_quarantined(place):
    [bad] = parse(android(segments=[], signals=[], profile={"frequentPlaces": [place]}))
    assert isinstance(bad, BadRecord)
    assert bad.reason.startswith("unreadable frequent place")


def test_empty_export_is_no_error():
    assert parse({"semanticSegments": [], "rawSignals": [], "userLocationProfile": {}}) == []
    assert parse(b"[]", IOS_PATH) == []


def test_byte_order_mark_and_leading_space():
    assert len(parse(b"\xef\xbb\xbf \n" + json.dumps(android()).encode())) == 10
    assert len(parse(b"\xef\xbb\xbf\n" + json.dumps(IOS).encode(), IOS_PATH)) == 5


def test_reads_a_zip_member(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Zeitachse.json", json.dumps(android()))
    with zipfile.ZipFile(archive) as zf, zf.open("Zeitachse.json") as member:
        records = list(location_device.parse(member, PurePosixPath("Zeitachse.json")))
    assert len(records) == 10


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(android()).encode()[:-40],
        json.dumps(IOS).encode()[:-40],
        b'{"semanticSegments": [], "rawSignals": []} trailing',
        b'{"semanticSegments": [{"startTime": "caf\xe9"}]}',
        b"",
        b"   ",
        b'"just a string"',
        b'{"locations": []}',
        b'{"timelineObjects": []}',
    ],
)
def test_broken_or_foreign_file_raises_member_error(raw):
    with pytest.raises(MemberError):
        parse(raw)


def test_truncated_android_file_yields_what_came_before():
    raw = json.dumps(android()).encode()[:-40]
    stream = location_device.parse(io.BytesIO(raw), ANDROID_PATH)
    assert isinstance(next(stream), VisitRecord)
    with pytest.raises(MemberError, match="invalid or truncated JSON"):
        list(stream)


@pytest.mark.parametrize(
    "name",
    [
        "Timeline.json",
        "timeline.json",
        "Zeitachse.json",
        "Chronologie.json",
        "Cronología.json",
        unicodedata.normalize("NFD", "Cronología.json"),
        "Tijdlijn.json",
        "Download/Zeitachse.json",
    ],
)
def test_android_matches(name):
    assert location_device.matches_android(PurePosixPath(name))
    assert not location_device.matches_ios(PurePosixPath(name))


@pytest.mark.parametrize("name", ["location-history.json", "Downloads/Location-History.json"])
def test_ios_matches(name):
    assert location_device.matches_ios(PurePosixPath(name))
    assert not location_device.matches_android(PurePosixPath(name))


@pytest.mark.parametrize(
    "name",
    [
        "Takeout/Location History (Timeline)/Timeline Edits.json",
        "Takeout/Location History (Timeline)/Settings.json",
        "Takeout/Location History (Timeline)/Records.json",
        "Takeout/Location History/Location History.json",
        "Timeline.csv",
    ],
)
def test_does_not_match(name):
    assert not location_device.matches_android(PurePosixPath(name))
    assert not location_device.matches_ios(PurePosixPath(name))


def test_sniff_android():
    head = json.dumps(android(), indent=2).encode()[:8192]
    assert location_device.sniff_android(head)
    assert location_device.sniff_android(b'\xef\xbb\xbf{"rawSignals": [')
    assert not location_device.sniff_ios(head)


def test_sniff_ios():
    head = json.dumps(IOS, indent=2).encode()[:8192]
    assert location_device.sniff_ios(head)
    assert not location_device.sniff_android(head)


@pytest.mark.parametrize(
    "head",
    [
        b'{"locations": [{"latitudeE7": 1, "longitudeE7": 2}]}',
        b'{"timelineObjects": [{"placeVisit": {}}]}',
        b'{"timelineEdits": []}',
        b'[{"header": "Maps", "title": "Searched for cafes", "time": "2020-01-01T00:00:00Z"}]',
        # A Fit-like session array has startTime but none of the segment keys.
        b'[{"startTime": "2020-01-01T00:00:00Z", "endTime": "x", "fitnessActivity": "walking"}]',
    ],
)
def test_sniffers_reject_other_files(head):
    assert not location_device.sniff_android(head)
    assert not location_device.sniff_ios(head)


def test_parser_entries():
    products = [parser.product for parser in location_device.PARSERS]
    assert products == ["location.device_android", "location.device_ios"]


def test_times_are_timezone_aware():
    for record in parse(android()) + parse(IOS, IOS_PATH):
        moment = getattr(record, "recorded_at", None) or getattr(record, "started_at", None)
        moment = moment or getattr(record, "occurred_at", None)
        if moment is not None:
            assert moment.tzinfo is not None
            assert moment.astimezone(UTC).year == 2024
