"""Other apps' track files (GPX, KML/KMZ, GeoJSON, CSV, OwnTracks .rec), known by content."""

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import registry, tracks_csv, tracks_gpx, tracks_json, tracks_kml
from apps.lake.takeout.records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MemberError,
    VisitRecord,
)
from tests.lake.takeout.streams import CountingStream

GPX = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">
  <metadata><name>a day out</name></metadata>
  <wpt lat="46.5" lon="7.9"><ele>2061</ele><time>2024-05-01T07:00:00Z</time><name>Hut</name><desc>lunch</desc></wpt>
  <wpt lat="46.6" lon="7.8"><name>Summit</name></wpt>
  <trk><name>Morning</name>
    <trkseg>
      <trkpt lat="46.1" lon="7.1"><ele>500.5</ele><time>2024-05-01T08:00:00Z</time>
        <extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>1.5</gpxtpx:speed><gpxtpx:course>90</gpxtpx:course></gpxtpx:TrackPointExtension></extensions></trkpt>
      <trkpt lat="46.2" lon="7.2"><time>2024-05-01T08:01:00Z</time></trkpt>
    </trkseg>
    <trkseg>
      <trkpt lat="46.3" lon="7.3"><time>2024-05-01T09:00:00+02:00</time></trkpt>
      <trkpt lat="95" lon="7.3"><time>2024-05-01T09:01:00Z</time></trkpt>
    </trkseg>
  </trk>
  <trk><name>Drawn</name><trkseg><trkpt lat="1" lon="2"/><trkpt lat="3" lon="4"/></trkseg></trk>
  <rte><name>Plan</name><rtept lat="10" lon="20"/><rtept lat="11" lon="21"/><rtept lat="12" lon="22"/></rte>
</gpx>
"""

KML = b"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document><name>doc</name><Folder>
  <Placemark><name>Ride</name>
    <gx:Track>
      <when>2020-01-01T10:00:00Z</when><when>2020-01-01T10:00:05Z</when><when>2020-01-01T10:00:10Z</when>
      <gx:coord>13.4 52.5 34</gx:coord><gx:coord>13.41 52.51 35</gx:coord><gx:coord>13.42 52.52 36</gx:coord>
    </gx:Track>
  </Placemark>
  <Placemark><name>Cafe</name><address>Main St 1</address>
    <TimeSpan><begin>2020-01-01T11:00:00Z</begin><end>2020-01-01T12:00:00Z</end></TimeSpan>
    <Point><coordinates>13.43,52.53,0</coordinates></Point></Placemark>
  <Placemark><name>Photo</name><TimeStamp><when>2020-01-01T12:30:00Z</when></TimeStamp>
    <Point><coordinates>13.44,52.54</coordinates></Point></Placemark>
  <Placemark><name>Walk home</name><LineString><coordinates>
      13.44,52.54,0 13.45,52.55,0 13.46,52.56,0
  </coordinates></LineString></Placemark>
  <Placemark><name>Pin</name><Point><coordinates>13.5,52.6</coordinates></Point></Placemark>
</Folder></Document></kml>
"""


def parse(parser, data: bytes, name: str = "file") -> list:
    return list(parser(io.BytesIO(data), PurePosixPath(name)))


def product(name: str, data: bytes) -> str | None:
    found = registry.parser_for(PurePosixPath(name), data[: registry.SNIFF_BYTES])
    return found.product if found else None


def test_registry_knows_track_files_by_content_whatever_their_name():
    assert product("export.xml", GPX) == "tracks.gpx"
    assert product("x.txt", KML) == "tracks.kml"
    assert product("trip.kmz", b"PK") == "tracks.kmz"
    assert product("points", b'{"type": "FeatureCollection", "features": []}') == "tracks.geojson"
    assert product(
        "2024-05.rec", b'2024-05-01T08:00:00Z\t*                 \t{"_type":"location"}'
    ) == ("tracks.owntracks_rec")
    assert product("log.dat", b"time;lat;lon\n2024-01-01T00:00:00Z;1;2\n") == "tracks.csv"
    # A CSV without coordinates stays someone else's (or nobody's).
    assert product("a.csv", b"id,timestamp,contents\n1,2024,hi\n") is None
    # Google's Saved Places (also a FeatureCollection) stays with the Maps parser.
    saved = b'{"type": "FeatureCollection", "features": [{"properties": {"Google Maps URL": "x"}}]}'
    assert product("Saved Places.json", saved) == "maps.saved_places"


def test_gpx_tracks_segments_waypoints_and_routes():
    records = parse(tracks_gpx.parse, GPX)
    points = [r for r in records if isinstance(r, LocationRecord)]
    assert [(p.latitude, p.longitude) for p in points] == [(46.1, 7.1), (46.2, 7.2), (46.3, 7.3)]
    first = points[0]
    assert first.recorded_at == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert (first.altitude_m, first.velocity_mps, first.heading_deg) == (500.5, 1.5, 90.0)
    assert first.source == "gpx"
    assert first.data == {"track": 1, "segment": 1, "name": "Morning"}
    assert points[2].recorded_at == datetime(2024, 5, 1, 7, tzinfo=UTC)
    assert points[2].data["segment"] == 2
    [bad] = [r for r in records if isinstance(r, BadRecord)]
    assert "outside the globe" in bad.reason
    waypoints = [r for r in records if isinstance(r, EventRecord) and r.kind == "track.waypoint"]
    assert [(w.title, w.text, w.occurred_at) for w in waypoints] == [
        ("Hut", "lunch", datetime(2024, 5, 1, 7, tzinfo=UTC)),
        ("Summit", "", None),
    ]
    paths = [r for r in records if isinstance(r, EventRecord) and r.kind == "track.path"]
    assert [(p.title, p.occurred_at, p.data["coordinates"]) for p in paths] == [
        ("Drawn", None, [[2.0, 1.0], [4.0, 3.0]]),
        ("Plan", None, [[20.0, 10.0], [21.0, 11.0], [22.0, 12.0]]),
    ]
    assert paths[0].data["undated_reason"] == "the track's points have no times"
    assert "planned" in paths[1].data["undated_reason"]


def test_gpx_is_streamed_and_broken_xml_is_a_member_error():
    points = "".join(
        f'<trkpt lat="1" lon="{i / 1000}"><time>2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z</time></trkpt>'
        for i in range(3600)
    )
    data = (
        f'<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{points}</trkseg></trk></gpx>'
    )
    stream = CountingStream(data.encode() * 1)
    records = tracks_gpx.parse(stream, PurePosixPath("big.gpx"))  # type: ignore[arg-type]
    next(records)
    assert stream.read_bytes < len(data)  # the first point came before the file was read
    assert sum(1 for _ in records) == 3599
    with pytest.raises(MemberError, match="GPX"):
        parse(tracks_gpx.parse, b"<gpx><trk><trkseg><trkpt lat='1'")


def test_kml_tracks_stays_stamps_undated_lines_and_pins():
    records = parse(tracks_kml.parse, KML)
    points = [r for r in records if isinstance(r, LocationRecord)]
    assert [(p.recorded_at.second, p.latitude, p.longitude, p.altitude_m) for p in points] == [
        (0, 52.5, 13.4, 34.0),
        (5, 52.51, 13.41, 35.0),
        (10, 52.52, 13.42, 36.0),
        (0, 52.54, 13.44, None),
    ]
    assert points[0].data == {"name": "Ride"}
    assert points[3].recorded_at == datetime(2020, 1, 1, 12, 30, tzinfo=UTC)
    [visit] = [r for r in records if isinstance(r, VisitRecord)]
    assert (visit.name, visit.address, visit.latitude) == ("Cafe", "Main St 1", 52.53)
    assert visit.ended_at == datetime(2020, 1, 1, 12, tzinfo=UTC)
    [path] = [r for r in records if isinstance(r, EventRecord) and r.kind == "track.path"]
    assert (path.title, path.occurred_at) == ("Walk home", None)
    assert path.data["coordinates"] == [
        [13.44, 52.54, 0.0],
        [13.45, 52.55, 0.0],
        [13.46, 52.56, 0.0],
    ]
    assert path.data["undated_reason"] == "the line has no times"
    [pin] = [r for r in records if isinstance(r, EventRecord) and r.kind == "track.waypoint"]
    assert (pin.title, pin.occurred_at, pin.latitude) == ("Pin", None, 52.6)


def test_kml_track_with_a_when_too_many_quarantines_it():
    data = (
        b'<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">'
        b"<Placemark><gx:Track><when>2020-01-01T10:00:00Z</when><when>2020-01-01T10:00:01Z</when>"
        b"<gx:coord>1 2 3</gx:coord></gx:Track></Placemark></kml>"
    )
    records = parse(tracks_kml.parse, data)
    assert [type(r) for r in records] == [LocationRecord, BadRecord]
    assert "without its <gx:coord>" in records[1].reason


def test_kmz_inside_another_archive_is_opened():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as kmz:
        kmz.writestr("doc.kml", KML)
        kmz.writestr("files/icon.png", b"\x89PNG")
    records = parse(tracks_kml.parse_kmz, buffer.getvalue(), "Takeout/x/trip.kmz")
    assert sum(isinstance(r, LocationRecord) for r in records) == 4
    with pytest.raises(MemberError, match="KMZ"):
        parse(tracks_kml.parse_kmz, b"not a zip", "trip.kmz")


def test_geojson_timed_points_timed_lines_and_undated_lines():
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-122.03, 37.33, 12.0]},
                "properties": {
                    "timestamp": "2017-01-01T10:00:00-0800",
                    "speed": 3.0,
                    "horizontal_accuracy": 5,
                    "battery_level": 0.8,
                },
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [10.0, 50.0]},
                "properties": {"time": 1_700_000_000_000},
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
                "properties": {"coordTimes": ["2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z"]},
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[5, 6], [7, 8]]},
                "properties": {"name": "sketch"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [1, 1]},
                "properties": {},
            },
        ],
    }
    records = parse(tracks_json.parse_geojson, json.dumps(collection).encode())
    points = [r for r in records if isinstance(r, LocationRecord)]
    assert [(p.latitude, p.longitude) for p in points] == [
        (37.33, -122.03),
        (50.0, 10.0),
        (2.0, 1.0),
        (4.0, 3.0),
    ]
    assert points[0].recorded_at == datetime(2017, 1, 1, 18, tzinfo=UTC)
    assert (points[0].altitude_m, points[0].velocity_mps, points[0].accuracy_m) == (12.0, 3.0, 5.0)
    assert points[0].data == {"battery_level": 0.8}
    assert points[1].recorded_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    [path] = [r for r in records if isinstance(r, EventRecord)]
    assert (path.title, path.data["coordinates"]) == ("sketch", [[5.0, 6.0], [7.0, 8.0]])
    [bad] = [r for r in records if isinstance(r, BadRecord)]
    assert "without a time" in bad.reason


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "lat,lon,time,accuracy,altitude,speed,bearing,provider\n"
            "48.1,11.5,2024-03-01T10:00:00Z,4,520,1.2,180,gps\n",
            (48.1, 11.5, datetime(2024, 3, 1, 10, tzinfo=UTC), 4.0, {"provider": "gps"}),
        ),
        (
            "Latitude;Longitude;Timestamp\n48,1;11,5;2024-03-01 10:00:00\n",
            (48.1, 11.5, datetime(2024, 3, 1, 10, tzinfo=UTC), None, None),
        ),
        (
            "latitudeE7,longitudeE7,timestampMs\n481000000,-1150000000,1709287200000\n",
            (48.1, -115.0, datetime(2024, 3, 1, 10, tzinfo=UTC), None, None),
        ),
        (
            "date,time,latitude,longitude\n2024-03-01,10:00:00,33.9S,18.4E\n",
            (-33.9, 18.4, datetime(2024, 3, 1, 10, tzinfo=UTC), None, None),
        ),
        (
            "time\tlat\tlng\n1709287200\tN 40.7\tW 74.0\n",
            (40.7, -74.0, datetime(2024, 3, 1, 10, tzinfo=UTC), None, None),
        ),
    ],
)
def test_csv_column_spellings_delimiters_and_encodings(content, expected):
    assert tracks_csv.sniff(content.encode())
    [record] = parse(tracks_csv.parse, content.encode())
    assert isinstance(record, LocationRecord), record
    latitude, longitude, moment, accuracy, data = expected
    assert (record.latitude, record.longitude, record.recorded_at) == (latitude, longitude, moment)
    assert (record.accuracy_m, record.data, record.source) == (accuracy, data, "csv")


def test_csv_bad_rows_are_quarantined_with_their_row_number():
    content = (
        b"lat,lon,time\n1,2,2024-01-01T00:00:00Z\n91,2,2024-01-01T00:00:01Z\n1,2E7x,2024\n1,2\n"
    )
    records = parse(tracks_csv.parse, content)
    assert isinstance(records[0], LocationRecord)
    assert [r.reason.split(":")[0] for r in records[1:]] == ["CSV row 3", "CSV row 4", "CSV row 5"]
    assert "outside the globe" in records[1].reason


def test_owntracks_rec_lines():
    lines = [
        '2015-09-29T06:04:06Z\t*                 \t{"_type":"location","tst":1443506646,"lat":48.85,"lon":2.29,"acc":10,"alt":40,"vel":36,"batt":77,"tid":"JJ","conn":"w"}',
        '2015-09-29T06:05:00Z\towntracks/jane/phone\t{"_type":"transition","event":"enter","desc":"Home","tst":1443506700,"lat":48.85,"lon":2.29,"wtst":1,"acc":10}',
        '2015-09-29T06:06:00Z\t*\t{"_type":"lwt","tst":1443506760}',
        "2015-09-29T06:07:00Z\t*\t{not json",
        "",
    ]
    records = parse(tracks_json.parse_rec, "\n".join(lines).encode())
    location, transition, bad = records
    assert isinstance(location, LocationRecord)
    assert location.recorded_at == datetime(2015, 9, 29, 6, 4, 6, tzinfo=UTC)
    assert (location.accuracy_m, location.altitude_m, location.velocity_mps) == (10.0, 40.0, 10.0)
    assert location.source == "owntracks"
    assert location.data == {"batt": 77, "tid": "JJ", "conn": "w"}
    assert isinstance(transition, EventRecord)
    assert (transition.kind, transition.title) == ("owntracks.transition", "enter Home")
    assert transition.data["topic"] == "owntracks/jane/phone"
    assert isinstance(bad, BadRecord) and "line 4" in bad.reason


@pytest.mark.parametrize(
    "head",
    [
        # A JPEG's first bytes (a Photos Takeout holds the media beside the sidecars):
        # binary with a bare CR inside what looks like its first line.
        b"\xff\xd8\xff\xe1\x1dExif\x00\x00MM\x00*\rlat,lon,time\x00",
        b"From 1234@xxx Sat Jan 01 00:00:00 +0000 2021\r\nX-GM-THRID: 1\r\n",
    ],
)
def test_the_csv_sniffer_says_no_to_what_is_not_a_track_instead_of_failing(head):
    assert tracks_csv.sniff(head) is False
