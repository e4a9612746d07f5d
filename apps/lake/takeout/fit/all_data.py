"""Google Fit's raw data: ``Fit/All Data/derived_<data type>_<source>.json``.

``{"Data Source", "Data Points": [{dataTypeName, startTimeNanos,
endTimeNanos, fitValue: [{value: {intVal | fpVal}}], originDataSourceId,
modifiedTimeMillis}]}``. A file holds up to millions of points: it is walked
with ijson, one point at a time. Location samples become LocationPoints;
every other point an event ``fit.<measure>`` (steps, heart rate, weight,
distance; ``fit.data_point`` for the rest, its type in the title).
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
from ..records import BadRecord, EventRecord, LocationRecord, Parser, Record, excerpt_of
from . import in_fit

ALL_DATA_FOLDERS = frozenset({"all data", "alle daten", "toutes les données", "todos los datos"})
_DERIVED_NAME = re.compile(r"(?:derived|raw)_.+\.json")
# Data types with a name of their own; any other lands as "fit.data_point".
_MEASURES = {
    "com.google.step_count.delta": "fit.steps",
    "com.google.heart_rate.bpm": "fit.heart_rate",
    "com.google.weight": "fit.weight",
    "com.google.distance.delta": "fit.distance",
}
_LOCATION_SAMPLE = "com.google.location.sample"


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
    for point in jsonstream.iter_items(stream, "Data Points.item"):
        yield data_point_record(point, source)


def data_point_record(point: Any, source: str) -> Record:
    if not isinstance(point, dict):
        return BadRecord("a Fit data point is a JSON object", excerpt_of(point))
    data_type = point.get("dataTypeName")
    if not isinstance(data_type, str) or not data_type:
        return BadRecord("Fit data point without dataTypeName", excerpt_of(point))
    try:
        started = from_epoch_ns(point["startTimeNanos"])
        ended = from_epoch_ns(point["endTimeNanos"]) if "endTimeNanos" in point else None
        values = _point_values(point)
    except KeyError:
        return BadRecord("Fit data point without startTimeNanos", excerpt_of(point))
    except ValueError as exc:
        return BadRecord(f"Fit data point: {exc}", excerpt_of(point))
    if data_type == _LOCATION_SAMPLE:
        return _location_sample(point, started, values)
    kind = _MEASURES.get(data_type, "fit.data_point")
    value = values[0] if len(values) == 1 else values
    data = dict(point)
    data["value"] = value
    data["dataSource"] = source
    return EventRecord(
        kind=kind,
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
    return float(value) if isinstance(value, int | float) else None


PARSERS: list[Parser] = [
    Parser(
        product="fit.all_data", matches=matches_derived, parse=parse_derived, sniff=sniff_derived
    ),
]
