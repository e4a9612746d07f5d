"""Fit's TCX workouts: track points as location points, laps as fit.activity events."""

import io
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import registry
from apps.lake.takeout.fit import tcx as fit_tcx
from apps.lake.takeout.records import BadRecord, EventRecord, LocationRecord, MemberError
from tests.lake.takeout.streams import CountingStream

PATH = "Takeout/Fit/Activities/2021-04-19T22_57_39+02_00_PT11M14.186S_Running.tcx"


def trackpoint(time: str, lat: float | None, lon: float | None, hr: int = 120) -> str:
    position = (
        f"<Position><LatitudeDegrees>{lat}</LatitudeDegrees>"
        f"<LongitudeDegrees>{lon}</LongitudeDegrees></Position>"
        if lat is not None
        else ""
    )
    return (
        f"<Trackpoint><Time>{time}</Time>{position}<AltitudeMeters>12.5</AltitudeMeters>"
        f"<DistanceMeters>3.5</DistanceMeters><HeartRateBpm><Value>{hr}</Value></HeartRateBpm>"
        "</Trackpoint>"
    )


def tcx(laps: list[tuple[str, float, list[str]]], sport: str = "Running") -> bytes:
    body = "".join(
        f'<Lap StartTime="{start}"><TotalTimeSeconds>{seconds}</TotalTimeSeconds>'
        "<DistanceMeters>1000.0</DistanceMeters><Calories>70</Calories>"
        "<AverageHeartRateBpm><Value>131</Value></AverageHeartRateBpm>"
        "<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod>"
        f"<Track>{''.join(points)}</Track></Lap>"
        for start, seconds, points in laps
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
        f'<Activities><Activity Sport="{sport}"><Id>2021-04-19T20:57:39.686Z</Id>{body}'
        '<Creator xsi:type="Device_t" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<Name>Pixel</Name></Creator></Activity></Activities></TrainingCenterDatabase>"
    ).encode()


def parse(data: bytes) -> list:
    return list(fit_tcx.parse_tcx(io.BytesIO(data), PurePosixPath(PATH)))


def test_the_registry_gives_tcx_files_to_this_parser():
    assert registry.parser_for(PurePosixPath(PATH)).product == "fit.activities"
    assert registry.parser_for(PurePosixPath("run.tcx"), tcx([])).product == "fit.activities"
    assert registry.parser_for(PurePosixPath("Takeout/Google Photos/Activities/x.tcx")) is None


def test_track_points_and_laps():
    records = parse(
        tcx(
            [
                (
                    "2021-04-19T20:57:39.686Z",
                    300.0,
                    [
                        trackpoint("2021-04-19T20:57:39.686Z", 38.7223, -9.1393),
                        trackpoint("2021-04-19T20:57:40.686Z", 38.7224, -9.1394, hr=125),
                    ],
                ),
                (
                    "2021-04-19T21:02:39.686Z",
                    374.186,
                    [
                        trackpoint("2021-04-19T21:02:39.686Z", None, None),  # indoors: no fix
                        trackpoint("2021-04-19T21:02:40.686Z", 38.7230, -9.1400),
                    ],
                ),
            ]
        )
    )
    kinds = [type(record).__name__ for record in records]
    assert kinds == [
        "LocationRecord",
        "LocationRecord",
        "EventRecord",
        "LocationRecord",
        "EventRecord",
    ]
    first = records[0]
    assert isinstance(first, LocationRecord)
    assert first.recorded_at == datetime(2021, 4, 19, 20, 57, 39, 686000, tzinfo=UTC)
    assert (first.latitude, first.longitude, first.altitude_m) == (38.7223, -9.1393, 12.5)
    assert first.source == "fit.tcx"
    assert first.data == {
        "activity": "2021-04-19T20:57:39.686Z",
        "sport": "Running",
        "distance_m": 3.5,
        "heart_rate_bpm": 120.0,
    }
    lap = records[2]
    assert isinstance(lap, EventRecord)
    assert lap.kind == "fit.activity" and lap.title == "Running"
    assert lap.occurred_at == datetime(2021, 4, 19, 20, 57, 39, 686000, tzinfo=UTC)
    assert lap.ended_at == datetime(2021, 4, 19, 21, 2, 39, 686000, tzinfo=UTC)
    assert lap.data["lap"] == 1 and lap.data["trackpoints"] == 2
    assert lap.data["DistanceMeters"] == 1000.0 and lap.data["AverageHeartRateBpm"] == 131.0
    assert lap.text == "1.00 km, 5.0 min, 70 kcal"
    second_lap = records[4]
    assert second_lap.data["lap"] == 2 and second_lap.data["trackpoints"] == 2


def test_bad_track_points_and_laps_are_quarantined():
    records = parse(
        tcx(
            [
                ("2021-04-19T20:57:39Z", 60.0, [trackpoint("soon", 38.7, -9.1)]),
                ("", 60.0, [trackpoint("2021-04-19T20:58:39Z", 98.0, -9.1)]),
            ]
        )
    )
    assert [type(r).__name__ for r in records] == [
        "BadRecord",
        "EventRecord",
        "BadRecord",
        "BadRecord",
    ]
    assert records[0].reason.startswith("TCX track point: not an ISO 8601 timestamp")
    assert records[2].reason.startswith("TCX track point: coordinates outside the globe")
    assert (
        isinstance(records[3], BadRecord) and records[3].reason == "TCX lap: lap without StartTime"
    )


def test_broken_xml_fails_the_member():
    with pytest.raises(MemberError, match="invalid or truncated TCX"):
        parse(tcx([("2021-04-19T20:57:39Z", 60.0, [])])[:-30])


def test_entity_bombs_are_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]><TrainingCenterDatabase><Activities>&lol9;</Activities></TrainingCenterDatabase>"
    )
    with pytest.raises(MemberError):
        parse(bomb)


def test_points_come_out_while_the_file_is_still_being_read():
    points = [
        trackpoint(f"2021-04-19T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z", 38.7, -9.1)
        for i in range(20_000)
    ]
    data = tcx([("2021-04-19T10:00:00Z", 20_000.0, points)])
    stream = CountingStream(data)
    records = fit_tcx.parse_tcx(io.BufferedReader(stream), PurePosixPath(PATH))
    assert isinstance(next(records), LocationRecord)
    assert stream.read_bytes < len(data) // 10
    rest = list(records)
    assert len(rest) == 20_000 and rest[-1].data["trackpoints"] == 20_000
