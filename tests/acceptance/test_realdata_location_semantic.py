"""Semantic Location History parser against a real month (counts from SOURCES.md)."""

from collections import Counter
from datetime import UTC, datetime
from pathlib import PurePosixPath

from apps.lake.takeout.location import semantic as location_semantic
from apps.lake.takeout.records import BadRecord, EventRecord, VisitRecord

AUGUST = "kgeo-timeline/parser/src/test/resources/semantic-2021-august.json"  # REAL


def parse(realdata):
    path = PurePosixPath(
        "Takeout/Location History (Timeline)/Semantic Location History/2021/2021_AUGUST.json"
    )
    assert location_semantic.matches(path)
    with open(realdata / AUGUST, "rb") as stream:
        return list(location_semantic.parse(stream, path))


def test_august_2021_counts(realdata):
    records = parse(realdata)
    assert not [r for r in records if isinstance(r, BadRecord)]
    visits = [r for r in records if isinstance(r, VisitRecord)]
    children = [v for v in visits if "childVisitOf" in v.data]
    parents = [v for v in visits if "childVisitOf" not in v.data]
    assert (len(parents), len(children)) == (64, 9)
    assert sum(bool(v.name) for v in parents) == 37
    activities = [r for r in records if isinstance(r, EventRecord)]
    assert len(activities) == 61
    assert {a.kind for a in activities} == {"location.activity"}
    assert Counter(a.title for a in activities) == {
        "IN_PASSENGER_VEHICLE": 59,
        "UNKNOWN_ACTIVITY_TYPE": 2,
    }


def test_august_2021_values(realdata):
    records = parse(realdata)
    first_activity, first_visit = records[0], records[1]
    assert first_activity.occurred_at == datetime(2021, 8, 1, 0, 22, 28, tzinfo=UTC)
    assert first_activity.ended_at == datetime(2021, 8, 1, 1, 22, 24, tzinfo=UTC)
    assert (first_activity.latitude, first_activity.longitude) == (43.6996461, -79.8555542)
    assert first_activity.data["distance"] == 70404
    assert first_visit.place_id == "ChIJIaVYdfUf1YkRLU2jwKnfDMc"
    assert first_visit.started_at == datetime(2021, 8, 1, 1, 22, 24, tzinfo=UTC)
    assert first_visit.address == "6 Rumbellow Cres, Ajax, ON L1T 0J9, Canada"
    assert first_visit.semantic_type == "TYPE_SEARCHED_ADDRESS"
    assert abs(first_visit.confidence - 0.96271454) < 1e-9
    # Every child visit names a parent that precedes it.
    visits = [r for r in records if isinstance(r, VisitRecord)]
    seen = set()
    for visit in visits:
        if "childVisitOf" in visit.data:
            assert visit.data["childVisitOf"] in seen
            assert visit.name
        seen.add(visit.place_id)
    assert all(r.latitude is not None and -90 <= r.latitude <= 90 for r in visits)
    assert max(v.ended_at for v in visits) == datetime(2021, 8, 26, 21, 38, 41, tzinfo=UTC)


def test_sniff_recognises_the_real_file(realdata):
    assert location_semantic.sniff((realdata / AUGUST).read_bytes()[:8192])
