"""Location History Settings.json and Timeline Edits.json (current Takeouts)."""

import io
import json
import unicodedata
import zipfile
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import registry
from apps.lake.takeout.location import meta as location_meta
from apps.lake.takeout.records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MemberError,
    PlaceRecord,
)

SETTINGS_PATH = PurePosixPath("Takeout/Location History (Timeline)/Settings.json")
EDITS_PATH = PurePosixPath("Takeout/Location History (Timeline)/Timeline Edits.json")

PIXEL = {
    "deviceTag": -1182793264,
    "reportingEnabled": True,
    "legalCountryCode": "de",
    "devicePrettyName": "Pixel 7",
    "platformType": "ANDROID",
    "deviceCreationTime": "2022-09-18T14:46:38.958Z",
    "latestLocationReportingSettingChange": {
        "reportingEnabledModificationTime": "2022-09-18T14:46:38.958Z"
    },
    "androidOsLevel": 34,
    "deviceSpec": {"manufacturer": "Google", "model": "Pixel 7", "isLowRam": False},
    "deviceActiveness": {"hasSavedTimelineData": True},
}
IPHONE = {
    "deviceTag": 42,
    "reportingEnabled": False,
    "platformType": "IOS",
    "iosVersion": "17.1",
    "deviceSpec": {"device": "iPhone9,1", "model": "iPhone 7"},
}
SETTINGS = {
    "createdTime": "2013-08-10T18:07:41.251Z",
    "modifiedTime": "2024-07-06T20:07:56.405Z",
    "historyEnabled": True,
    "deviceSettings": [PIXEL, IPHONE],
    "retentionWindowDays": 2147483647,
    "hasReportedLocations": True,
    "hasSetRetention": False,
    "encryptedBackupsControls": {"-1182793264": {"enabled": False}},
    "retentionControl": {"retentionWindowDays": 2147483647},
}

AGGREGATES_EDIT = {
    "deviceId": "0",
    "placeAggregates": {
        "placeAggregateInfo": [
            {
                "score": 862.0,
                "numBucketsWithLocation": 0,
                "bucketSpanDays": 0,
                "point": {"latE7": 481371234, "lngE7": 115754321},
                "placeId": "ChIJhome",
                "placePoint": {"latE7": 481372000, "lngE7": 115755000},
            },
            {
                "score": 5.0,
                "numBucketsWithLocation": 14,
                "bucketSpanDays": 4,
                "point": {"latE7": -338688197, "lngE7": 1512092955},
                "placeId": "ChIJopera",
            },
        ],
        "windowSizeHrs": 2016,
        "topRankedPlacesPlaceIds": ["ChIJhome", "ChIJopera"],
        "processWindow": {"startTime": "2023-09-20T08:01:15Z", "endTime": "2023-12-13T08:01:15Z"},
        "metadata": {"platform": "UNKNOWN"},
    },
}
POSITION_EDIT = {
    "deviceId": "-538926953",
    "rawSignal": {
        "signal": {
            "position": {
                "point": {"latE7": 426974802, "lngE7": -778539156},
                "accuracyMm": 13000,
                "altitudeMeters": 224.0,
                "source": "WIFI",
                "speedMetersPerSecond": 0.5,
                "timestamp": "2024-02-17T04:14:41.412Z",
            }
        },
        "additionalTimestamp": "2024-02-17T04:14:39.545Z",
        "metadata": {"platform": "ANDROID"},
    },
}
ACTIVITY_EDIT = {
    "deviceId": "-538926953",
    "rawSignal": {
        "signal": {
            "activityRecord": {
                "detectedActivities": [
                    {"activityType": "STILL", "probability": 0.02},
                    {"activityType": "IN_ROAD_VEHICLE", "probability": 0.96},
                ],
                "timestamp": "2024-02-17T05:26:47.066Z",
            }
        },
        "additionalTimestamp": "2024-02-17T05:26:48Z",
        "metadata": {"platform": "ANDROID"},
    },
}
WIFI_EDIT = {
    "deviceId": "-538926953",
    "rawSignal": {
        "signal": {
            "wifiScan": {
                "deliveryTime": "2024-02-17T04:26:44.661Z",
                "devices": [
                    {"mac": "145830537259886", "rawRssi": -51},
                    {"mac": "2", "rawRssi": -58},
                ],
                "source": "ACTIVE_SCAN",
            }
        },
        "metadata": {"platform": "ANDROID"},
    },
}


def parse_settings(value, path=SETTINGS_PATH):
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return list(location_meta.parse_settings(io.BytesIO(raw), path))


def parse_edits(value, path=EDITS_PATH):
    raw = value if isinstance(value, bytes) else json.dumps({"timelineEdits": value}).encode()
    return list(location_meta.parse_edits(io.BytesIO(raw), path))


# -- Settings.json -----------------------------------------------------------


def test_settings_file_and_one_event_per_device():
    settings, pixel, iphone = parse_settings(SETTINGS)
    assert settings.kind == "location.settings"
    assert settings.occurred_at == datetime(2024, 7, 6, 20, 7, 56, 405000, tzinfo=UTC)
    assert (settings.title, settings.text) == ("Location History settings", "2 devices")
    # Nothing but the device list leaves the settings record, nested controls included.
    assert settings.data == {k: v for k, v in SETTINGS.items() if k != "deviceSettings"}

    assert pixel.kind == iphone.kind == "location.device_setting"
    assert pixel.occurred_at == datetime(2022, 9, 18, 14, 46, 38, 958000, tzinfo=UTC)
    assert (pixel.title, pixel.text) == ("Pixel 7", "ANDROID, location reporting on")
    scalars = {
        "createdTime": "2013-08-10T18:07:41.251Z",
        "modifiedTime": "2024-07-06T20:07:56.405Z",
        "historyEnabled": True,
        "retentionWindowDays": 2147483647,
        "hasReportedLocations": True,
        "hasSetRetention": False,
    }
    assert pixel.data == {**PIXEL, "settings": scalars}


def test_device_without_creation_time_or_name_falls_back():
    *_, iphone = parse_settings(SETTINGS)
    # No deviceCreationTime: the file's modifiedTime; no pretty name: the model.
    assert iphone.occurred_at == datetime(2024, 7, 6, 20, 7, 56, 405000, tzinfo=UTC)
    assert (iphone.title, iphone.text) == ("iPhone 7", "IOS, location reporting off")
    nameless = {"deviceTag": 7, "platformType": "UNKNOWN"}
    _, device = parse_settings(
        {"modifiedTime": "2024-01-01T00:00:00Z", "deviceSettings": [nameless]}
    )
    assert device.title == "Device 7"


def test_settings_time_falls_back_to_created_then_none():
    [settings] = parse_settings({"createdTime": "2013-08-10T18:07:41Z", "historyEnabled": False})
    assert settings.occurred_at == datetime(2013, 8, 10, 18, 7, 41, tzinfo=UTC)
    assert settings.text == "0 devices"
    [settings, device] = parse_settings({"deviceSettings": [{"devicePrettyName": "Nokia"}]})
    assert settings.occurred_at is None and device.occurred_at is None
    assert device.title == "Nokia"


@pytest.mark.parametrize(
    ("device", "reason"),
    [
        ({**PIXEL, "deviceCreationTime": "yesterday"}, "unreadable device setting: not an ISO"),
        ("Pixel 7", "unreadable device setting: not a JSON object"),
    ],
)
def test_unreadable_device_is_quarantined(device, reason):
    settings, pixel, bad = parse_settings({**SETTINGS, "deviceSettings": [PIXEL, device]})
    assert settings.kind == "location.settings" and pixel.title == "Pixel 7"
    assert isinstance(bad, BadRecord)
    assert reason in bad.reason
    assert "Pixel 7" in bad.excerpt


def test_unreadable_settings_times_are_quarantined():
    bad, iphone = parse_settings(
        {**SETTINGS, "modifiedTime": 1720296476, "deviceSettings": [IPHONE]}
    )
    assert isinstance(bad, BadRecord)
    assert bad.reason.startswith("unreadable Location History settings: not a timestamp")
    assert iphone.occurred_at is None  # the file's time was unreadable


def test_device_list_of_the_wrong_type_is_quarantined():
    settings, bad = parse_settings({**SETTINGS, "deviceSettings": {"deviceTag": 1}})
    assert settings.kind == "location.settings"
    assert isinstance(bad, BadRecord)
    assert bad.reason == "deviceSettings is not a list"


@pytest.mark.parametrize(
    "raw",
    [b'{"createdTime": "2013-08-10T18:07:41Z", ', b"[]", b'"settings"', b"", b'{"a": "\xe9"}'],
)
def test_broken_settings_file_raises_member_error(raw):
    with pytest.raises(MemberError):
        parse_settings(raw)


def test_settings_with_byte_order_mark():
    assert len(parse_settings(b"\xef\xbb\xbf" + json.dumps(SETTINGS).encode())) == 3


# -- Timeline Edits.json -----------------------------------------------------


def test_place_aggregates_give_places_and_an_event():
    home, opera, event = parse_edits([AGGREGATES_EDIT])
    assert isinstance(home, PlaceRecord) and isinstance(opera, PlaceRecord)
    # placePoint is the place; point only where there is no placePoint.
    assert (home.place_id, home.latitude, home.longitude) == ("ChIJhome", 48.1372, 11.5755)
    assert (opera.place_id, opera.latitude, opera.longitude) == (
        "ChIJopera",
        -33.8688197,
        151.2092955,
    )
    window = {k: v for k, v in AGGREGATES_EDIT["placeAggregates"].items()}
    del window["placeAggregateInfo"]
    assert home.data == {
        **AGGREGATES_EDIT["placeAggregates"]["placeAggregateInfo"][0],
        "window": {**window, "deviceId": "0"},
    }
    assert event.kind == "location.place_aggregates"
    assert event.occurred_at == datetime(2023, 12, 13, 8, 1, 15, tzinfo=UTC)
    assert (event.title, event.text) == ("2 frequent places", "ranked over 2016 hours")
    assert event.data == AGGREGATES_EDIT


def test_aggregates_event_time_falls_back_to_the_window_start():
    edit = json.loads(json.dumps(AGGREGATES_EDIT))
    del edit["placeAggregates"]["processWindow"]["endTime"]
    *_, event = parse_edits([edit])
    assert event.occurred_at == datetime(2023, 9, 20, 8, 1, 15, tzinfo=UTC)


def test_aggregate_without_place_id_stays_in_the_event_only():
    edit = json.loads(json.dumps(AGGREGATES_EDIT))
    del edit["placeAggregates"]["placeAggregateInfo"][0]["placeId"]
    opera, event = parse_edits([edit])
    assert opera.place_id == "ChIJopera"
    assert "placeId" not in event.data["placeAggregates"]["placeAggregateInfo"][0]


def test_raw_position_is_a_location():
    [point] = parse_edits([POSITION_EDIT])
    assert isinstance(point, LocationRecord)
    assert point.recorded_at == datetime(2024, 2, 17, 4, 14, 41, 412000, tzinfo=UTC)
    assert (point.latitude, point.longitude) == (42.6974802, -77.8539156)
    assert (point.accuracy_m, point.altitude_m, point.velocity_mps) == (13.0, 224.0, 0.5)
    assert point.source == "WIFI"
    assert point.data == {
        "deviceId": "-538926953",
        "additionalTimestamp": "2024-02-17T04:14:39.545Z",
        "metadata": {"platform": "ANDROID"},
    }


def test_raw_position_in_metres_and_unmapped_fields_kept():
    edit = json.loads(json.dumps(POSITION_EDIT))
    position = edit["rawSignal"]["signal"]["position"]
    position.update(accuracyMeters=7, source=3, bearing=90)
    [point] = parse_edits([edit])
    assert point.accuracy_m == 7.0
    assert point.source == ""
    assert {"accuracyMm": 13000, "source": 3, "bearing": 90}.items() <= point.data.items()


def test_other_raw_signals_are_events():
    activity, wifi = parse_edits([ACTIVITY_EDIT, WIFI_EDIT])
    assert activity.kind == wifi.kind == "location.raw_signal"
    assert activity.occurred_at == datetime(2024, 2, 17, 5, 26, 47, 66000, tzinfo=UTC)
    assert activity.title == "IN_ROAD_VEHICLE"
    assert activity.data == ACTIVITY_EDIT
    assert wifi.occurred_at == datetime(2024, 2, 17, 4, 26, 44, 661000, tzinfo=UTC)
    assert wifi.title == "2 Wi-Fi access points"
    assert wifi.data == WIFI_EDIT


def test_position_without_time_and_mixed_signals_are_events():
    untimed = json.loads(json.dumps(POSITION_EDIT))
    del untimed["rawSignal"]["signal"]["position"]["timestamp"]
    mixed = json.loads(json.dumps(POSITION_EDIT))
    mixed["rawSignal"]["signal"].update(ACTIVITY_EDIT["rawSignal"]["signal"])
    first, second = parse_edits([untimed, mixed])
    # No time of its own: the raw signal's additionalTimestamp.
    assert first.kind == "location.raw_signal"
    assert first.occurred_at == datetime(2024, 2, 17, 4, 14, 39, 545000, tzinfo=UTC)
    assert (first.title, first.latitude, first.longitude) == ("Position", 42.6974802, -77.8539156)
    # A LocationRecord would lose the activity: the whole edit becomes one event.
    assert second.kind == "location.raw_signal"
    assert second.occurred_at == datetime(2024, 2, 17, 4, 14, 41, 412000, tzinfo=UTC)
    assert second.data == mixed


def test_edit_with_both_parts_gives_both():
    both = {**AGGREGATES_EDIT, "rawSignal": POSITION_EDIT["rawSignal"]}
    records = parse_edits([both])
    assert [type(r) for r in records] == [PlaceRecord, PlaceRecord, EventRecord, LocationRecord]


def test_unknown_edit_with_a_time_is_kept_as_an_event():
    edit = {"deviceId": "0", "visitEdit": {"window": {"startTime": "2024-03-01T10:00:00Z"}}}
    [event] = parse_edits([edit])
    assert event.kind == "location.timeline_edit"
    assert event.occurred_at == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert event.data == edit


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"deviceId": "0"}, "timeline edit has no placeAggregates, rawSignal or time"),
        ({"deviceId": "0", "note": {"editTime": "soon"}}, "unreadable timeline edit: not an ISO"),
        ("edit", "timeline edit is not a JSON object"),
        ({"deviceId": "0", "rawSignal": []}, "unreadable raw signal: rawSignal is not a JSON"),
        (
            {"deviceId": "0", "rawSignal": {"signal": {}, "metadata": {}}},
            "unreadable raw signal: raw signal without a time",
        ),
        (
            {"rawSignal": {"signal": {"position": {"timestamp": "2024-02-17T04:14:41Z"}}}},
            "unreadable raw signal: no point",
        ),
        (
            {
                "rawSignal": {
                    "signal": {
                        "position": {
                            "point": {"latE7": 950000000, "lngE7": 0},
                            "timestamp": "2024-02-17T04:14:41Z",
                        }
                    }
                }
            },
            "outside the globe",
        ),
        (
            {
                "rawSignal": {
                    "signal": {
                        "position": {
                            "point": {"latE7": 1, "lngE7": 2},
                            "accuracyMm": "far",
                            "timestamp": "2024-02-17T04:14:41Z",
                        }
                    }
                }
            },
            "not a number: 'far'",
        ),
        (
            {"rawSignal": {"signal": {"wifiScan": {"deliveryTime": "later"}}}},
            "unreadable raw signal: not an ISO",
        ),
        ({"placeAggregates": "top places"}, "placeAggregates is not a JSON object"),
    ],
)
def test_unreadable_edits_are_quarantined(edit, reason):
    good, bad = parse_edits([POSITION_EDIT, edit])
    assert isinstance(good, LocationRecord)
    assert isinstance(bad, BadRecord)
    assert reason in bad.reason


def test_bad_aggregated_places_are_quarantined_one_by_one():
    edit = json.loads(json.dumps(AGGREGATES_EDIT))
    infos = edit["placeAggregates"]["placeAggregateInfo"]
    infos[0]["placePoint"] = {"latE7": 481372000}
    infos.append({"placeId": "", "point": {"latE7": 1, "lngE7": 2}})
    infos.append("ChIJcafe")
    bad_point, opera, bad_id, bad_type, event = parse_edits([edit])
    assert isinstance(bad_point, BadRecord) and bad_point.reason.endswith("no lngE7")
    assert opera.place_id == "ChIJopera"
    assert "not a place id" in bad_id.reason
    assert bad_type.reason == "unreadable aggregated place: not a JSON object"
    assert event.title == "4 frequent places"


def test_bad_aggregate_window_is_quarantined_but_places_kept():
    edit = json.loads(json.dumps(AGGREGATES_EDIT))
    edit["placeAggregates"]["processWindow"]["endTime"] = "Christmas"
    home, opera, bad = parse_edits([edit])
    assert home.place_id == "ChIJhome"
    assert bad.reason.startswith("unreadable placeAggregates: not an ISO 8601")
    edit["placeAggregates"] = {"placeAggregateInfo": {"placeId": "x"}}
    bad_list, event = parse_edits([edit])
    assert bad_list.reason == "placeAggregateInfo is not a list"
    assert event.occurred_at is None and event.data == edit


def test_empty_edits_file_is_no_error():
    assert parse_edits([]) == []
    assert parse_edits(b'\xef\xbb\xbf{"timelineEdits": []}') == []


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"timelineEdits": [AGGREGATES_EDIT]}).encode()[:-30],
        b'{"timelineEdits": [{"deviceId": "caf\xe9"}]}',
        b"",
        b"[]",
        b"{}",
        b'{"timelineEdits": {"deviceId": "0"}}',
        b'{"locations": [{"latitudeE7": 1, "longitudeE7": 2}]}',
    ],
)
def test_broken_or_foreign_edits_file_raises_member_error(raw):
    with pytest.raises(MemberError):
        parse_edits(raw)


def test_reads_a_zip_member(tmp_path):
    archive = tmp_path / "takeout.zip"
    edits = {"timelineEdits": [AGGREGATES_EDIT, POSITION_EDIT, ACTIVITY_EDIT]}
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(str(EDITS_PATH), json.dumps(edits))
        zf.writestr(str(SETTINGS_PATH), json.dumps(SETTINGS))
    with zipfile.ZipFile(archive) as zf:
        with zf.open(str(EDITS_PATH)) as member:
            assert len(list(location_meta.parse_edits(member, EDITS_PATH))) == 5
        with zf.open(str(SETTINGS_PATH)) as member:
            assert len(list(location_meta.parse_settings(member, SETTINGS_PATH))) == 3


# -- matching and sniffing ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Location History (Timeline)/Settings.json",
        "Takeout/Location History/Settings.json",
        "Takeout/Standortverlauf (Zeitachse)/Settings.json",
        "Takeout/Historique des positions/settings.json",
        unicodedata.normalize("NFD", "Takeout/Historial de ubicaciones (Cronología)/Settings.json"),
        "Location History (Timeline)/Settings.json",
    ],
)
def test_settings_matches(path):
    assert location_meta.matches_settings(PurePosixPath(path))
    assert not location_meta.matches_edits(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Takeout/Location History (Timeline)/Timeline Edits.json",
        "Takeout/Standortverlauf/timeline edits.json",
        "Timeline Edits.json",
    ],
)
def test_edits_matches(path):
    assert location_meta.matches_edits(PurePosixPath(path))
    assert not location_meta.matches_settings(PurePosixPath(path))


@pytest.mark.parametrize(
    "path",
    [
        "Settings.json",  # too common a name alone: sniffed instead
        "Takeout/Chrome/Settings.json",
        "Takeout/Calendar/settings.json",
        "Takeout/Google Photos/Location History/Settings.json",
        "Takeout/Location History (Timeline)/Semantic Location History/2020/Settings.json",
        "Takeout/Location History (Timeline)/Records.json",
        "Takeout/Location History (Timeline)/Encrypted Backups.txt",
        "Takeout/Location History/Semantic Location History/2021/2021_AUGUST.json",
        "Takeout/YouTube and YouTube Music/Timeline Edits/Settings.json",
        "Takeout/Keep/Timeline Edits.json",
        "Timeline.json",
    ],
)
def test_does_not_match(path):
    assert not location_meta.matches_settings(PurePosixPath(path))
    assert not location_meta.matches_edits(PurePosixPath(path))


def test_registry_routes_both_files_here():
    assert registry.parser_for(SETTINGS_PATH).product == "location.settings"
    assert registry.parser_for(EDITS_PATH).product == "location.timeline_edits"
    settings_head = json.dumps(SETTINGS, indent=2).encode()
    edits_head = json.dumps({"timelineEdits": [AGGREGATES_EDIT]}).encode()
    # Lone or renamed files: by content.
    renamed = PurePosixPath("Einstellungen.json")
    assert registry.parser_for(renamed, settings_head).product == "location.settings"
    assert registry.parser_for(renamed, edits_head).product == "location.timeline_edits"


@pytest.mark.parametrize(
    "head",
    [
        json.dumps(SETTINGS, indent=2).encode(),
        b'\xef\xbb\xbf{\n  "createdTime": "2013-08-10T18:07:41.251Z",\n  "deviceSettings": []',
        b'{"deviceSettings": [{"deviceTag": 1',
        b'{"createdTime": "x", "modifiedTime": "y", "hasReportedLocations": false}',
        b'{"historyEnabled": true, "createdTime": "x", "modifiedTime": "y", "hasSetRetention"',
    ],
)
def test_sniff_settings(head):
    assert location_meta.sniff_settings(head)
    assert not location_meta.sniff_edits(head)


def test_sniff_edits():
    head = json.dumps({"timelineEdits": [AGGREGATES_EDIT]}, indent=2).encode()
    assert location_meta.sniff_edits(head)
    assert location_meta.sniff_edits(b'\xef\xbb\xbf {"timelineEdits": []}')
    assert not location_meta.sniff_settings(head)


@pytest.mark.parametrize(
    "head",
    [
        # Other files with created/modified times but none of Settings.json's fields.
        b'{"createdTime": "2020-01-01T00:00:00Z", "modifiedTime": "2020-01-02T00:00:00Z", "title": "x"}',
        b'{"title": "note", "deviceSettings": [{"deviceTag": 1}]}',
        b'{"Search Engines": [], "deviceSettings": []}',
        b'{"locations": [{"latitudeE7": 1, "longitudeE7": 2}]}',
        b'{"semanticSegments": [], "rawSignals": []}',
        b'{"timelineObjects": [{"placeVisit": {}}]}',
        b'[{"createdTime": "x", "modifiedTime": "y", "deviceSettings": []}]',
        b'{"edits": {"timelineEdits": []}}',
        b'{"timelineEdits": "none"}',
    ],
)
def test_sniffers_reject_other_files(head):
    assert not location_meta.sniff_settings(head)
    assert not location_meta.sniff_edits(head)


def test_parser_entries():
    products = [parser.product for parser in location_meta.PARSERS]
    assert products == ["location.settings", "location.timeline_edits"]
    assert location_meta in registry._MODULES
