"""Semantic Location History monthly files: place visits and activity segments."""

import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout.location import semantic as location_semantic
from apps.lake.takeout.records import BadRecord, EventRecord, MemberError, VisitRecord

PATH = PurePosixPath(
    "Takeout/Location History (Timeline)/Semantic Location History/2021/2021_AUGUST.json"
)


def child_visit():
    return {
        "location": {
            "latitudeE7": 437134333,
            "longitudeE7": -793536327,
            "placeId": "ChIJchild",
            "address": "60 Research Rd, Toronto",
            "name": "Skatepark",
            "locationConfidence": 52.5,
        },
        "duration": {
            "startTimestamp": "2021-08-05T19:44:52Z",
            "endTimestamp": "2021-08-05T20:16:01Z",
        },
        "placeConfidence": "MEDIUM_CONFIDENCE",
    }


def place_visit(**changes):
    visit = {
        "location": {
            "latitudeE7": 438865167,
            "longitudeE7": -790179014,
            "placeId": "ChIJparent",
            "address": "6 Rumbellow Cres, Ajax",
            "name": "Home of a friend",
            "semanticType": "TYPE_SEARCHED_ADDRESS",
            "sourceInfo": {"deviceTag": 566860671},
            "locationConfidence": 96.25,
        },
        "duration": {
            "startTimestamp": "2021-08-01T01:22:24Z",
            "endTimestamp": "2021-08-01T01:25:36.123Z",
        },
        "placeConfidence": "HIGH_CONFIDENCE",
        "centerLatE7": 438870938,
        "centerLngE7": -790177265,
        "visitConfidence": 85,
        "otherCandidateLocations": [{"latitudeE7": 1, "longitudeE7": 2, "placeId": "ChIJother"}],
        "editConfirmationStatus": "NOT_CONFIRMED",
    }
    visit.update(changes)
    return {"placeVisit": visit}


def activity_segment(**changes):
    segment = {
        "startLocation": {"latitudeE7": 436996461, "longitudeE7": -798555542},
        "endLocation": {"latitudeE7": 438870938, "longitudeE7": -790177265},
        "duration": {
            "startTimestamp": "2021-08-01T00:22:28Z",
            "endTimestamp": "2021-08-01T01:22:24Z",
        },
        "distance": 70404,
        "activityType": "IN_PASSENGER_VEHICLE",
        "confidence": "HIGH",
        "activities": [{"activityType": "IN_PASSENGER_VEHICLE", "probability": 96.1}],
        "waypointPath": {"waypoints": [{"latE7": 436996498, "lngE7": -798555450}]},
        "simplifiedRawPath": {"points": [{"latE7": 1, "lngE7": 2, "timestamp": "x"}]},
    }
    segment.update(changes)
    return {"activitySegment": segment}


def parse(objects_or_bytes, path=PATH):
    raw = (
        objects_or_bytes
        if isinstance(objects_or_bytes, bytes)
        else json.dumps({"timelineObjects": objects_or_bytes}, indent=2).encode()
    )
    return list(location_semantic.parse(io.BytesIO(raw), path))


def test_place_visit():
    item = place_visit()
    [visit] = parse([item])
    assert isinstance(visit, VisitRecord)
    assert visit.started_at == datetime(2021, 8, 1, 1, 22, 24, tzinfo=UTC)
    assert visit.ended_at == datetime(2021, 8, 1, 1, 25, 36, 123000, tzinfo=UTC)
    assert (visit.latitude, visit.longitude) == (43.8865167, -79.0179014)
    assert visit.place_id == "ChIJparent"
    assert visit.name == "Home of a friend"
    assert visit.address == "6 Rumbellow Cres, Ajax"
    assert visit.semantic_type == "TYPE_SEARCHED_ADDRESS"
    assert visit.confidence == pytest.approx(0.9625)
    assert visit.data == item["placeVisit"]


def test_older_millisecond_durations():
    item = place_visit(
        duration={"startTimestampMs": "1627780944000", "endTimestampMs": "1627781136000"}
    )
    [visit] = parse([item])
    assert visit.started_at == datetime(2021, 8, 1, 1, 22, 24, tzinfo=UTC)
    assert visit.ended_at == datetime(2021, 8, 1, 1, 25, 36, tzinfo=UTC)


def test_visit_without_end_or_location_coordinates():
    item = place_visit(duration={"startTimestamp": "2021-08-01T01:22:24Z"})
    del item["placeVisit"]["location"]["latitudeE7"]
    del item["placeVisit"]["location"]["longitudeE7"]
    [visit] = parse([item])
    assert visit.ended_at is None
    # The visit's centre stands in for the missing place coordinates.
    assert (visit.latitude, visit.longitude) == (43.8870938, -79.0177265)
    del item["placeVisit"]["centerLatE7"]
    [visit] = parse([item])
    assert (visit.latitude, visit.longitude) == (None, None)


def test_child_visits_become_visits_that_name_their_parent():
    item = place_visit(childVisits=[child_visit()])
    parent, child = parse([item])
    assert parent.place_id == "ChIJparent"
    assert isinstance(child, VisitRecord)
    assert child.place_id == "ChIJchild"
    assert child.name == "Skatepark"
    assert child.started_at == datetime(2021, 8, 5, 19, 44, 52, tzinfo=UTC)
    assert (child.latitude, child.longitude) == (43.7134333, -79.3536327)
    assert child.data["childVisitOf"] == "ChIJparent"
    assert child.data["placeConfidence"] == "MEDIUM_CONFIDENCE"


def test_bad_child_visit_does_not_cost_the_parent():
    item = place_visit(childVisits=[{"location": {}}, child_visit()])
    parent, bad, child = parse([item])
    assert isinstance(parent, VisitRecord)
    assert isinstance(bad, BadRecord)
    assert bad.reason == "unreadable child visit: no duration"
    assert child.place_id == "ChIJchild"


def test_activity_segment():
    item = activity_segment()
    [event] = parse([item])
    assert isinstance(event, EventRecord)
    assert event.kind == "location.activity"
    assert event.occurred_at == datetime(2021, 8, 1, 0, 22, 28, tzinfo=UTC)
    assert event.ended_at == datetime(2021, 8, 1, 1, 22, 24, tzinfo=UTC)
    assert event.title == "IN_PASSENGER_VEHICLE"
    assert (event.latitude, event.longitude) == (43.6996461, -79.8555542)
    assert event.data == item["activitySegment"]
    assert event.data["waypointPath"]["waypoints"][0]["latE7"] == 436996498


def test_activity_segment_without_start_location():
    [event] = parse([activity_segment(startLocation={})])
    assert (event.latitude, event.longitude) == (None, None)


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (place_visit(duration={}), "unreadable placeVisit: no duration.startTimestamp"),
        (place_visit(duration={"startTimestamp": "Monday"}), "not an ISO 8601 timestamp"),
        (
            place_visit(location={"latitudeE7": 999999999, "longitudeE7": 0}),
            "coordinates outside the globe",
        ),
        (place_visit(location="somewhere"), "unexpected structure"),
        ({"placeVisit": None}, "unreadable placeVisit"),
        (activity_segment(duration={"endTimestamp": "2021-08-01T01:22:24Z"}), "no duration"),
        (activity_segment(startLocation={"latitudeE7": "x", "longitudeE7": 1}), "E7"),
        ({"somethingNew": {}}, "neither a placeVisit nor an activitySegment"),
        ("text", "not a JSON object"),
    ],
)
def test_unreadable_objects_are_quarantined(item, reason):
    records = parse([place_visit(), item, activity_segment()])
    assert [type(r) for r in records] == [VisitRecord, BadRecord, EventRecord]
    assert reason in records[1].reason
    assert records[1].excerpt


def test_byte_order_mark_and_empty_month():
    assert parse(b'\xef\xbb\xbf{"timelineObjects": []}') == []


@pytest.mark.parametrize(
    "raw", [b'{"timelineObjects": [{"placeVisit": {', b"", b'{"timelineObjects": [1,]}']
)
def test_broken_file_raises_member_error(raw):
    with pytest.raises(MemberError):
        parse(raw)


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Location History (Timeline)/Semantic Location History/2021/2021_AUGUST.json",
        "Takeout/Location History/Semantic Location History/2013/2013_DECEMBER.json",
        "Takeout/Standortverlauf/Semantic Location History/2012/2012_NOVEMBER.json",
        "Takeout/Standortverlauf (Zeitachse)/Semantic Location History/2020/2020_MAY.json",
        # Localised folder and month names under a known location folder.
        "Takeout/Historial de ubicaciones/Historial de ubicaciones semántico/2021/2021_AGOSTO.json",
        "Semantic Location History/2019/2019_JANUARY.json",
        "2021_august.json",
    ],
)
def test_matches(path):
    assert location_semantic.matches(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Location History (Timeline)/Records.json",
        "Takeout/Location History (Timeline)/Timeline Edits.json",
        "Takeout/Location History/Semantic Location History/2020/2021_AUGUST.json",
        "Takeout/Fit/2021/2021_AUGUST.json",
        "Takeout/Google Photos/2021/2021_AUGUST.json",
        "2021_AGOSTO.json",
        "2021_AUGUST.csv",
    ],
)
def test_does_not_match(path):
    assert not location_semantic.matches(PurePosixPath(path))


def test_sniff():
    head = json.dumps({"timelineObjects": [place_visit()]}, indent=2).encode()[:8192]
    assert location_semantic.sniff(head)
    assert location_semantic.sniff(b'\xef\xbb\xbf  {\n  "timelineObjects" : []}')


@pytest.mark.parametrize(
    "head",
    [
        b'{"locations": [{"latitudeE7": 1}]}',
        b'{"semanticSegments": []}',
        b'[{"startTime": "2024-01-01T00:00:00Z", "visit": {}}]',
        b'{"timelineEdits": [{"placeAggregates": {}}]}',
    ],
)
def test_sniff_rejects_other_files(head):
    assert not location_semantic.sniff(head)
