"""Google Fit's raw data: ``Fit/All Data/derived_<data type>_<source>.json``.

``{"Data Source", "Data Points": [{dataTypeName, startTimeNanos,
endTimeNanos, fitValue: [{value: {intVal | fpVal}}], originDataSourceId,
modifiedTimeMillis}]}``. A file holds up to millions of points: it is walked
one point at a time (jsonstream.iter_array, which keeps each number's text as
the file wrote it: a measurement keeps it beside its double). Location samples
become LocationPoints;
every numeric field of any other point a measurement of the health-metric
hypertable (apps/lake/takeout/fit/measures.py says which metric), its stream
the file's name. A point whose values are not numbers (a food's ``mapVal``,
an app's ``stringVal``) stays an event ``fit.data_point``, its type in the title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from .. import jsonstream
from ..fields import check_coordinates, from_epoch_ns
from ..paths import folder_name, head_text
from ..records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MetricRecord,
    Parser,
    Record,
    excerpt_of,
)
from . import in_fit
from .measures import DATA_TYPE_METRICS, NUMBER_TYPES, metrics_of, number_text

ALL_DATA_FOLDERS = frozenset({"all data", "alle daten", "toutes les données", "todos los datos"})
_DERIVED_NAME = re.compile(r"(?:derived|raw)_.+\.json")
_LOCATION_SAMPLE = "com.google.location.sample"
_NUMBER_KEYS = frozenset({"fpVal", "intVal"})


def matches_derived(path: PurePosixPath) -> bool:
    return (
        _DERIVED_NAME.fullmatch(folder_name(path.name)) is not None
        and folder_name(path.parent.name) in ALL_DATA_FOLDERS
        and in_fit(path)
    )


def sniff_derived(head: bytes) -> bool:
    text = head_text(head)
    return text.startswith("{") and '"Data Points"' in text


def parse_derived(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    # "derived_com.google.weight_com.google.android.gms_merge_weight.json": the
    # file's name is its data source (the "Data Source" key says the same).
    source = path.name[: -len(".json")]
    metric_of = _single_metrics()
    for point in jsonstream.iter_array(stream, "Data Points"):
        # The bulk of a file: one value of a type with one field (steps, heart rate).
        try:
            (cell,) = point["fitValue"]
            ((key, value),) = cell["value"].items()
            metric, unit = metric_of[point["dataTypeName"]]
            if key in _NUMBER_KEYS and type(value) in NUMBER_TYPES:
                started = from_epoch_ns(point["startTimeNanos"])
                ended = from_epoch_ns(point["endTimeNanos"])
                if started <= ended:
                    yield MetricRecord(
                        metric,
                        started,
                        ended,
                        float(value),
                        unit,
                        source,
                        None,
                        number_text(value),
                    )
                    continue
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # anything else, and any error, the general way below
        yield from data_point_records(point, source)


def _single_metrics() -> dict[str, tuple[str, str]]:
    """The data types of one field whose points need nothing but their value (not a
    sleep segment, whose minutes asleep are a measurement of their own)."""
    return {
        data_type: fields[0]
        for data_type, fields in DATA_TYPE_METRICS.items()
        if len(fields) == 1 and data_type != "com.google.sleep.segment"
    }


def data_point_records(point: Any, source: str) -> Iterator[Record]:
    """The records of one point of stream ``source``: measurements, a location, or an event."""
    if not isinstance(point, dict):
        yield BadRecord("a Fit data point is a JSON object", excerpt_of(point))
        return
    data_type = point.get("dataTypeName")
    if not isinstance(data_type, str) or not data_type:
        yield BadRecord("Fit data point without dataTypeName", excerpt_of(point))
        return
    try:
        started = from_epoch_ns(point["startTimeNanos"])
        ended = from_epoch_ns(point["endTimeNanos"]) if "endTimeNanos" in point else None
        values = _point_values(point)
    except KeyError:
        yield BadRecord("Fit data point without startTimeNanos", excerpt_of(point))
        return
    except ValueError as exc:
        yield BadRecord(f"Fit data point: {exc}", excerpt_of(point))
        return
    if data_type == _LOCATION_SAMPLE:
        yield _location_sample(point, started, values)
        return
    if ended is not None and ended < started:
        yield BadRecord("Fit data point ends before it starts", excerpt_of(point))
        return
    if all(v is None or type(v) in NUMBER_TYPES for v in values):
        measurements = list(metrics_of(data_type, values, started, ended or started, source))
        if not measurements:
            yield BadRecord("Fit data point without a value", excerpt_of(point))
        yield from measurements
        return
    yield _data_point_event(point, data_type, started, ended, values, source)


def _data_point_event(
    point: dict[str, Any],
    data_type: str,
    started: datetime,
    ended: datetime | None,
    values: list[Any],
    source: str,
) -> EventRecord:
    value = jsonstream.plain(values[0] if len(values) == 1 else values)
    data = jsonstream.plain(point)
    data["value"] = value
    data["dataSource"] = source
    return EventRecord(
        kind="fit.data_point",
        occurred_at=started,
        ended_at=ended if ended != started else None,
        title=data_type,
        text=str(value),
        data=data,
        # Touched by Fit whenever it re-derives a point; the point stays the same.
        copy_fields=("modifiedTimeMillis",),
    )


def _point_values(point: dict[str, Any]) -> list[Any]:
    """The values of a point: Takeout writes ``fitValue: [{value: {fpVal}}]``,
    the REST API (and some exports) ``value: [{fpVal}]``."""
    raw = point.get("fitValue", point.get("value"))
    if not isinstance(raw, list):
        raise ValueError("no fitValue list")
    values = []
    for entry in raw:
        cell = entry.get("value", entry) if isinstance(entry, dict) else None
        if not isinstance(cell, dict):
            raise ValueError(f"unreadable value {entry!r}")
        for key in ("fpVal", "intVal", "stringVal", "mapVal"):
            if key in cell:
                values.append(cell[key])
                break
        else:
            values.append(None)  # an unset field of a multi-field type
    return values


def _location_sample(point: dict[str, Any], recorded_at: datetime, values: list[Any]) -> Record:
    # com.google.location.sample: latitude, longitude, accuracy (m), altitude (m).
    try:
        latitude, longitude = check_coordinates(float(values[0]), float(values[1]))
    except (IndexError, TypeError, ValueError):
        return BadRecord("Fit location sample without a position on the globe", excerpt_of(point))
    extra = values[2:] + [None, None]
    return LocationRecord(
        recorded_at=recorded_at,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=_number(extra[0]),
        altitude_m=_number(extra[1]),
        source="fit",
        data={"originDataSourceId": point["originDataSourceId"]}
        if point.get("originDataSourceId")
        else None,
    )


def _number(value: Any) -> float | None:
    return float(value) if type(value) in NUMBER_TYPES else None


PARSERS: list[Parser] = [
    Parser(
        product="fit.all_data", matches=matches_derived, parse=parse_derived, sniff=sniff_derived
    ),
]
