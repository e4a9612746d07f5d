"""Settings.json and Timeline Edits.json against the real kgeo-timeline samples.

Both are REAL (SOURCES.md: deviceSettings=4, timelineEdits=3); the edits
sample holds only placeAggregates, no rawSignal.
"""

from collections import Counter
from datetime import UTC, datetime
from pathlib import PurePosixPath

from apps.lake.takeout import registry
from apps.lake.takeout.location import meta as location_meta
from apps.lake.takeout.records import BadRecord, EventRecord, PlaceRecord

RESOURCES = "kgeo-timeline/parser/src/test/resources"
SETTINGS = f"{RESOURCES}/settings.json"
EDITS = f"{RESOURCES}/timeline-edits.json"
SETTINGS_PATH = PurePosixPath("Takeout/Location History (Timeline)/Settings.json")
EDITS_PATH = PurePosixPath("Takeout/Location History (Timeline)/Timeline Edits.json")


def parse(realdata, sample, parse_function, path):
    with open(realdata / sample, "rb") as stream:
        return list(parse_function(stream, path))


def test_settings_counts_and_values(realdata):
    records = parse(realdata, SETTINGS, location_meta.parse_settings, SETTINGS_PATH)
    assert all(isinstance(r, EventRecord) for r in records)
    settings, *devices = records
    assert settings.kind == "location.settings"
    assert [d.kind for d in devices] == ["location.device_setting"] * 4
    assert settings.occurred_at == datetime(2023, 7, 6, 20, 7, 56, 405000, tzinfo=UTC)
    assert settings.text == "4 devices"
    assert settings.data["retentionControl"] == {"retentionWindowDays": 2147483647}
    assert len(settings.data["encryptedBackupsControls"]) == 4
    assert [(d.title, d.text) for d in devices] == [
        ("SM-S911W", "ANDROID, location reporting on"),
        ("Pixel 2", "ANDROID, location reporting on"),
        ("sp9853i_1h10_vmm", "ANDROID, location reporting on"),
        ("Max’s iPhone", "IOS, location reporting on"),
    ]
    assert [d.occurred_at.year for d in devices] == [2023, 2022, 2022, 2019]
    assert devices[3].data["iosVersion"] == "15.7.2"
    assert devices[0].data["settings"]["timelineDeletionTime"] == "2015-10-05T15:57:38.483Z"


def test_timeline_edits_counts_and_values(realdata):
    records = parse(realdata, EDITS, location_meta.parse_edits, EDITS_PATH)
    assert not [r for r in records if isinstance(r, BadRecord)]
    events = [r for r in records if isinstance(r, EventRecord)]
    places = [r for r in records if isinstance(r, PlaceRecord)]
    assert [e.kind for e in events] == ["location.place_aggregates"] * 3
    assert len(places) == 9
    assert len(records) == 12
    assert [e.occurred_at for e in events] == [
        datetime(2023, 12, 13, 8, 1, 15, tzinfo=UTC),
        datetime(2023, 12, 11, 8, 1, 10, tzinfo=UTC),
        datetime(2023, 12, 5, 8, 0, 58, tzinfo=UTC),
    ]
    # The same places recur from window to window.
    assert Counter(p.place_id for p in places)["ChIJV8SII64E1YkRvAqrnP5G_x8"] == 3
    assert len({p.place_id for p in places}) == 5
    home = next(p for p in places if p.place_id == "ChIJV8SII64E1YkRvAqrnP5G_x8")
    assert (home.latitude, home.longitude) == (43.9362443, -78.8308585)  # placePoint
    assert home.data["score"] == 862.0
    assert home.data["window"]["windowSizeHrs"] == 2016


def test_real_files_are_routed_here_by_path_and_by_content(realdata):
    settings_head = (realdata / SETTINGS).read_bytes()[: registry.SNIFF_BYTES]
    edits_head = (realdata / EDITS).read_bytes()[: registry.SNIFF_BYTES]
    assert registry.parser_for(SETTINGS_PATH, settings_head).product == "location.settings"
    assert registry.parser_for(EDITS_PATH, edits_head).product == "location.timeline_edits"
    for lone in ("settings.json", "timeline-edits.json", "Einstellungen.json"):
        path = PurePosixPath(lone)
        assert registry.parser_for(path, settings_head).product == "location.settings"
        assert registry.parser_for(path, edits_head).product == "location.timeline_edits"


def test_no_other_real_file_is_claimed_and_no_other_parser_claims_these(realdata):
    ours = {parser.product for parser in location_meta.PARSERS}
    others = [parser for parser in registry.PARSERS if parser.product not in ours]
    mine = {(realdata / SETTINGS).resolve(), (realdata / EDITS).resolve()}
    checked = 0
    for file in sorted(realdata.rglob("*")):
        if not file.is_file():
            continue
        head = file.read_bytes()[: registry.SNIFF_BYTES]
        relative = PurePosixPath(file.relative_to(realdata).as_posix())
        for path in (relative, PurePosixPath(file.name)):
            if file.resolve() in mine:
                assert not [p.product for p in others if p.matches(path)]
                assert not [p.product for p in others if p.sniff and p.sniff(head)]
            else:
                assert not [p.product for p in location_meta.PARSERS if p.matches(path)], path
                claimed = [p.product for p in location_meta.PARSERS if p.sniff and p.sniff(head)]
                assert not claimed, path
        checked += 1
    assert checked > 40  # the whole realdata folder was looked at
