"""Fit's All Data: derived data points, streamed, each landing where it belongs."""

import io
import json
from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from apps.lake.takeout import jsonstream, registry
from apps.lake.takeout.fit import all_data as fit_all_data
from apps.lake.takeout.records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MemberError,
    MetricRecord,
)
from tests.lake.takeout.streams import CountingStream

FOLDER = "Takeout/Fit/All Data"
START = 1_618_866_000_000_000_000  # 2021-04-19T21:00:00Z in nanoseconds
MINUTE = 60 * 10**9


def point(data_type: str, values: list[dict], start: int = START, end: int | None = None) -> dict:
    return {
        "fitValue": [{"value": value} for value in values],
        "originDataSourceId": "raw:com.google.step_count.cumulative:Google:Pixel:abc",
        "endTimeNanos": end if end is not None else start + MINUTE,
        "dataTypeName": data_type,
        "startTimeNanos": start,
        "modifiedTimeMillis": 1_618_866_100_000,
    }


def derived(points: list) -> bytes:
    return json.dumps(
        {"Data Source": "derived:com.google.step_count.delta:gms", "Data Points": points}
    ).encode()


def parse(data: bytes, name: str = "derived_com.google.step_count.delta_gms.json") -> list:
    return list(fit_all_data.parse_derived(io.BytesIO(data), PurePosixPath(f"{FOLDER}/{name}")))


def test_the_registry_gives_all_data_files_to_this_parser():
    for name in (
        "derived_com.google.step_count.delta_com.google.android.gms_estimated_steps.json",
        "derived_com.google.location.sample_com.google.android.gms_merge_location_samples.json",
        "raw_com.google.heart_rate.bpm_com.mc.miband1.json",
    ):
        assert registry.parser_for(PurePosixPath(f"{FOLDER}/{name}")).product == "fit.all_data"
    # German archives, and a lone file recognised by its content.
    assert registry.parser_for(PurePosixPath("Takeout/Fit/Alle Daten/derived_x.json")).product == (
        "fit.all_data"
    )
    assert registry.parser_for(PurePosixPath("x.json"), derived([])).product == "fit.all_data"


def test_points_become_measurements_of_their_stream():
    records = parse(
        derived(
            [
                point("com.google.step_count.delta", [{"intVal": 42}]),
                point("com.google.heart_rate.bpm", [{"fpVal": 71.5}], end=START),
                point("com.google.weight", [{"fpVal": 77.7}], end=START),
                point("com.google.distance.delta", [{"fpVal": 31.25}]),
                point("com.google.calories.expended", [{"fpVal": 1.5}]),
                point(
                    "com.google.heart_rate.summary", [{"fpVal": 80}, {"fpVal": 120}, {"fpVal": 55}]
                ),
                point("com.google.hydration", [{"fpVal": 0.25}]),
                point("com.google.sleep.segment", [{"intVal": 5}], end=START + 30 * MINUTE),
            ]
        )
    )
    assert all(isinstance(record, MetricRecord) for record in records)
    assert [(r.metric, r.value, r.unit) for r in records] == [
        ("steps", 42.0, "count"),
        ("heart_rate", 71.5, "bpm"),
        ("weight", 77.7, "kg"),
        ("distance", 31.25, "m"),
        ("calories", 1.5, "kcal"),
        ("heart_rate", 80.0, "bpm"),
        ("heart_rate_max", 120.0, "bpm"),
        ("heart_rate_min", 55.0, "bpm"),
        ("com.google.hydration", 0.25, ""),
        ("sleep_stage", 5.0, "stage"),
        ("sleep_minutes", 30.0, "min"),  # deep sleep
    ]
    steps = records[0]
    assert steps.start == datetime(2021, 4, 19, 21, 0, tzinfo=UTC)
    assert steps.end == datetime(2021, 4, 19, 21, 1, tzinfo=UTC)
    assert steps.stream == "derived_com.google.step_count.delta_gms"
    assert records[1].end == records[1].start  # an instant, not an interval


def test_a_point_of_text_or_map_values_stays_an_event():
    (record,) = parse(
        derived([point("com.google.nutrition", [{"mapVal": [{"key": "fat", "value": 1}]}])])
    )
    assert isinstance(record, EventRecord)
    assert (record.kind, record.title) == ("fit.data_point", "com.google.nutrition")
    assert record.data["dataSource"] == "derived_com.google.step_count.delta_gms"
    assert "modifiedTimeMillis" in record.copy_fields


def test_location_samples_become_location_points():
    (sample,) = parse(
        derived(
            [
                point(
                    "com.google.location.sample",
                    [{"fpVal": 38.7223}, {"fpVal": -9.1393}, {"fpVal": 12.0}, {"fpVal": 80.5}],
                )
            ]
        )
    )
    assert isinstance(sample, LocationRecord)
    assert (sample.latitude, sample.longitude, sample.accuracy_m, sample.altitude_m) == (
        38.7223,
        -9.1393,
        12.0,
        80.5,
    )
    assert sample.recorded_at == datetime(2021, 4, 19, 21, 0, tzinfo=UTC)
    assert sample.source == "fit"


def test_the_api_value_shape_is_read_too():
    (record,) = parse(
        derived(
            [
                {
                    "dataTypeName": "com.google.step_count.delta",
                    "startTimeNanos": str(START),
                    "endTimeNanos": str(START + MINUTE),
                    "value": [{"intVal": 7}],
                }
            ]
        )
    )
    assert (record.metric, record.value) == ("steps", 7.0)


def test_bad_points_are_quarantined_with_a_reason():
    records = parse(
        derived(
            [
                "not a point",
                {"startTimeNanos": START, "fitValue": []},
                {"dataTypeName": "com.google.weight", "fitValue": [{"value": {"fpVal": 1.0}}]},
                point("com.google.weight", [{"fpVal": 70.0}], start="yesterday", end=START),
                point("com.google.location.sample", [{"fpVal": 98.0}, {"fpVal": 1.0}]),
                {"dataTypeName": "com.google.weight", "startTimeNanos": START},
            ]
        )
    )
    assert all(isinstance(record, BadRecord) for record in records)
    assert [r.reason for r in records] == [
        "a Fit data point is a JSON object",
        "Fit data point without dataTypeName",
        "Fit data point without startTimeNanos",
        "Fit data point: not a nanosecond timestamp: 'yesterday'",
        "Fit location sample without a position on the globe",
        "Fit data point: no fitValue list",
    ]


def test_a_broken_file_fails_as_a_whole():
    with pytest.raises(MemberError, match="invalid or truncated JSON"):
        parse(derived([point("com.google.weight", [{"fpVal": 1.0}])])[:-20])


def test_points_come_out_while_the_file_is_still_being_read():
    points = [
        point("com.google.step_count.delta", [{"intVal": i}], START + i * MINUTE)
        for i in range(50_000)
    ]
    data = derived(points)
    stream = CountingStream(data)
    records = fit_all_data.parse_derived(
        io.BufferedReader(stream), PurePosixPath(f"{FOLDER}/derived_steps.json")
    )
    first = next(records)
    assert first.value == 0
    assert stream.read_bytes < len(data) // 10  # streamed, not loaded whole
    assert sum(1 for _ in records) == 49_999


# Written by hand: json.dumps would write Python's shortest text of each double.
EXACT = (
    b'{"Data Source": "derived:com.google.calories.expended:gms", "Data Points": [\n'
    b' {"fitValue": [{"value": {"fpVal": 0.40129898838885744}}], "dataTypeName":'
    b' "com.google.calories.expended", "startTimeNanos": 1618866000000000000,'
    b' "endTimeNanos": 1618866060000000000},\n'
    b' {"fitValue": [{"value": {"fpVal": 1.0E-4}}], "dataTypeName": "com.google.speed",'
    b' "startTimeNanos": 1618866000000000000, "endTimeNanos": 1618866000000000000},\n'
    b' {"fitValue": [{"value": {"intVal": 4174}}], "dataTypeName": "com.google.step_count.delta",'
    b' "startTimeNanos": 1618866000000000000, "endTimeNanos": 1618866060000000000},\n'
    b' {"fitValue": [{"value": {"fpVal": 75.50}}, {"value": {"fpVal": 76.0e0}},'
    b' {"value": {"fpVal": 74.99999999999999}}], "dataTypeName": "com.google.weight.summary",'
    b' "startTimeNanos": 1618866000000000000, "endTimeNanos": 1618866060000000000},\n'
    b' {"fitValue": [{"value": {"mapVal": [{"key": "fat", "value": {"fpVal": 0.40129898838885744}}]}}],'
    b' "dataTypeName": "com.google.nutrition", "startTimeNanos": 1618866000000000000}\n'
    b"]}"
)


@pytest.mark.parametrize("chunk", [1 << 20, 7])  # 7: every value is cut by a chunk's end
def test_measurements_keep_the_number_as_the_file_wrote_it(monkeypatch, chunk):
    monkeypatch.setattr(jsonstream, "_CHUNK", chunk)
    *measurements, event = parse(EXACT, "derived_com.google.calories.expended_gms.json")
    assert [(m.metric, m.text, m.value) for m in measurements] == [
        ("calories", "0.40129898838885744", 0.40129898838885744),
        ("speed", "1.0E-4", 0.0001),
        ("steps", "4174", 4174.0),
        ("weight", "75.50", 75.5),
        ("weight_max", "76.0e0", 76.0),
        ("weight_min", "74.99999999999999", 74.99999999999999),
    ]
    # An event's data stays JSON of doubles, as it always was.
    assert event.data["value"] == [{"key": "fat", "value": {"fpVal": 0.40129898838885744}}]
    assert type(event.data["value"][0]["value"]["fpVal"]) is float


def test_not_json_numbers_and_trailing_text_fail_the_file():
    for broken in (
        EXACT.replace(b"1.0E-4", b"NaN"),
        EXACT + b" {}",
        EXACT.replace(b'"Data Points": [', b'"Data Points": [,'),
        b"\xff" + EXACT,
    ):
        with pytest.raises(MemberError):
            parse(broken)
    with pytest.raises(MemberError, match="holds a JSON list, not an object"):
        parse(b"[]")
    assert parse(b'{"Data Source": "x", "Data Points": []}') == []
    assert parse(b"{}") == []


def test_the_short_path_gives_what_the_general_one_gives():
    # A value under an unknown key is an unset field, whatever its type: no measurement.
    (odd,) = parse(derived([point("com.google.step_count.delta", [{"intval": 5}])]))
    assert isinstance(odd, BadRecord) and odd.reason == "Fit data point without a value"
    # Both keys of the REST shape, and an end before the start: the general path decides.
    (both,) = parse(derived([point("com.google.heart_rate.bpm", [{"fpVal": 61.5, "mapVal": []}])]))
    assert (both.metric, both.value, both.text) == ("heart_rate", 61.5, "61.5")
    (backwards,) = parse(
        derived([point("com.google.step_count.delta", [{"intVal": 5}], START, START - 1)])
    )
    assert isinstance(backwards, BadRecord)
