"""On-device Timeline parser against the public sample (counts from SOURCES.md).

The only public Timeline.json sample is HAND-WRITTEN (kgeo-device-timeline):
its segments carry both a visit and a timelinePath and its raw signals both a
position and an activityRecord, which real exports do not.
"""

from datetime import UTC, datetime
from pathlib import PurePosixPath

from apps.lake.takeout.location import device as location_device
from apps.lake.takeout.records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    PlaceRecord,
    VisitRecord,
)

SAMPLE = "kgeo-device-timeline/lib/src/test/resources/test-data.json"


def parse(realdata):
    with open(realdata / SAMPLE, "rb") as stream:
        return list(location_device.parse(stream, PurePosixPath("Timeline.json")))


def test_counts(realdata):
    records = parse(realdata)
    assert not [r for r in records if isinstance(r, BadRecord)]
    visits = [r for r in records if isinstance(r, VisitRecord)]
    points = [r for r in records if isinstance(r, LocationRecord)]
    path_points = [p for p in points if p.source == "timelinePath"]
    positions = [p for p in points if p.source != "timelinePath"]
    events = [r for r in records if isinstance(r, EventRecord)]
    places = [r for r in records if isinstance(r, PlaceRecord)]
    assert len(visits) == 2
    assert len(path_points) == 10
    assert len(positions) == 2
    assert [e.kind for e in events] == ["location.activity_record"] * 2
    assert len(places) == 5
    assert len(records) == 2 + 10 + 2 + 2 + 5


def test_values(realdata):
    records = parse(realdata)
    visit = next(r for r in records if isinstance(r, VisitRecord))
    assert visit.started_at == datetime(2023, 10, 1, 8, 0, tzinfo=UTC)
    assert visit.ended_at == datetime(2023, 10, 1, 9, 0, tzinfo=UTC)
    assert (visit.latitude, visit.longitude) == (40.712776, -74.005974)
    assert (visit.place_id, visit.semantic_type, visit.confidence) == (
        "ChIJd8BlQ2BZwokRAFUEcm_qrcA",
        "INFERRED_WORK",
        0.95,
    )
    assert "timelinePath" not in visit.data
    assert visit.data["startTimeTimezoneUtcOffsetMinutes"] == 0
    positions = [r for r in records if isinstance(r, LocationRecord) and r.source == "GPS"]
    assert [(p.accuracy_m, p.altitude_m, p.velocity_mps) for p in positions] == [
        (5, 10.0, 1.5),
        (6, 11.0, 2.0),
    ]
    titles = [r.title for r in records if isinstance(r, EventRecord)]
    assert titles == ["WALKING", "RUNNING"]
    labels = [r.semantic_type for r in records if isinstance(r, PlaceRecord)]
    assert labels == ["WORK", "HOME", "GYM", "PARK", "CAFE"]


def test_sniff_recognises_the_sample(realdata):
    head = (realdata / SAMPLE).read_bytes()[:8192]
    assert location_device.sniff_android(head)
    assert not location_device.sniff_ios(head)
