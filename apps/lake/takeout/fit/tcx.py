"""Google Fit's workouts as TCX: ``Fit/Activities/<start>_<duration>_<sport>.tcx``.

Garmin Training Center XML: ``Activities/Activity[@Sport]/Lap[@StartTime]``
with totals (TotalTimeSeconds, DistanceMeters, Calories...) and a
``Track`` of ``Trackpoint`` (Time, Position, AltitudeMeters, HeartRateBpm).
Track points become LocationPoints, each lap a ``fit.activity`` event. Read
with iterparse; every element is dropped once read, so memory stays flat.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from ..fields import check_coordinates, parse_iso
from ..paths import folder_name, head_text
from ..records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MemberError,
    Parser,
    Record,
    excerpt_of,
)
from . import in_fit

ACTIVITY_FOLDERS = frozenset({"activities", "aktivitäten", "activités", "actividades"})


def matches_tcx(path: PurePosixPath) -> bool:
    return (
        folder_name(path.name).endswith(".tcx")
        and folder_name(path.parent.name) in ACTIVITY_FOLDERS
        and in_fit(path)
    )


def sniff_tcx(head: bytes) -> bool:
    return "<TrainingCenterDatabase" in head_text(head)[:4096]


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child_text(element: ET.Element, *names: str) -> str | None:
    """The text of a descendant reached by local names (namespaces ignored)."""
    node: ET.Element | None = element
    for name in names:
        node = (
            next((child for child in node if _local(child.tag) == name), None)
            if node is not None
            else None
        )
    return node.text.strip() if node is not None and node.text else None


def parse_tcx(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    """Track points and laps of a TCX file, element by element.

    Python's expat refuses entity-expansion bombs and ElementTree fetches no
    external entities, so an archive's XML cannot reach out or blow up.
    """
    sport = activity_id = ""
    lap: dict[str, Any] | None = None
    lap_index = 0
    track: ET.Element | None = None  # read points leave it at once: memory stays flat
    try:
        for event, element in ET.iterparse(stream, events=("start", "end")):
            name = _local(element.tag)
            if event == "start":
                if name == "Activity":
                    sport, activity_id, lap_index = element.get("Sport", ""), "", 0
                elif name == "Lap":
                    lap = {"StartTime": element.get("StartTime"), "trackpoints": 0}
                    lap_index += 1
                elif name == "Track":
                    track = element
                continue
            if name == "Id" and lap is None:
                activity_id = (element.text or "").strip()
            elif name == "Trackpoint":
                if lap is not None:
                    lap["trackpoints"] += 1
                record = _trackpoint(element, sport, activity_id)
                if record is not None:
                    yield record
                element.clear()
                if track is not None:
                    track.remove(element)  # the first child: a cheap removal
            elif name == "Lap" and lap is not None:
                yield _lap_event(element, lap, sport, activity_id, lap_index)
                lap = None
                element.clear()
            elif name == "Activity":
                element.clear()
    except ET.ParseError as exc:
        raise MemberError(f"invalid or truncated TCX (XML): {exc}") from None


def _trackpoint(element: ET.Element, sport: str, activity_id: str) -> Record | None:
    when = _child_text(element, "Time")
    latitude = _child_text(element, "Position", "LatitudeDegrees")
    longitude = _child_text(element, "Position", "LongitudeDegrees")
    if latitude is None and longitude is None:
        return None  # heart rate or cadence only (indoors): counted in its lap's trackpoints
    extra: dict[str, Any] = {"activity": activity_id, "sport": sport}
    for key, names in (
        ("distance_m", ("DistanceMeters",)),
        ("heart_rate_bpm", ("HeartRateBpm", "Value")),
        ("cadence", ("Cadence",)),
    ):
        value = _child_text(element, *names)
        if value is not None:
            extra[key] = _float_or_text(value)
    try:
        if when is None:
            raise ValueError("track point without Time")
        lat, lon = check_coordinates(float(latitude or ""), float(longitude or ""))
        altitude = _child_text(element, "AltitudeMeters")
        return LocationRecord(
            recorded_at=parse_iso(when),
            latitude=lat,
            longitude=lon,
            altitude_m=float(altitude) if altitude else None,
            source="fit.tcx",
            data=extra,
        )
    except ValueError as exc:
        return BadRecord(
            f"TCX track point: {exc}",
            excerpt_of({"Time": when, "LatitudeDegrees": latitude, "LongitudeDegrees": longitude}),
        )


def _float_or_text(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


_LAP_FIELDS = (
    "TotalTimeSeconds",
    "DistanceMeters",
    "MaximumSpeed",
    "Calories",
    "Intensity",
    "TriggerMethod",
    "Cadence",
    "Notes",
)


def _lap_event(
    element: ET.Element, lap: dict[str, Any], sport: str, activity_id: str, index: int
) -> Record:
    data: dict[str, Any] = {"sport": sport, "activity": activity_id, "lap": index, **lap}
    for field in _LAP_FIELDS:
        value = _child_text(element, field)
        if value is not None:
            data[field] = _float_or_text(value)
    for field in ("AverageHeartRateBpm", "MaximumHeartRateBpm"):
        value = _child_text(element, field, "Value")
        if value is not None:
            data[field] = _float_or_text(value)
    try:
        if not lap.get("StartTime"):
            raise ValueError("lap without StartTime")
        started = parse_iso(lap["StartTime"])
        seconds = data.get("TotalTimeSeconds")
        ended = started + timedelta(seconds=seconds) if isinstance(seconds, float) else None
    except (ValueError, OverflowError) as exc:
        return BadRecord(f"TCX lap: {exc}", excerpt_of(data))
    return EventRecord(
        kind="fit.activity",
        occurred_at=started,
        ended_at=ended,
        title=sport or "activity",
        text=_lap_text(data),
        data=data,
    )


def _lap_text(data: dict[str, Any]) -> str:
    parts = []
    if isinstance(data.get("DistanceMeters"), float):
        parts.append(f"{data['DistanceMeters'] / 1000:.2f} km")
    if isinstance(data.get("TotalTimeSeconds"), float):
        parts.append(f"{data['TotalTimeSeconds'] / 60:.1f} min")
    if isinstance(data.get("Calories"), float):
        parts.append(f"{data['Calories']:.0f} kcal")
    return ", ".join(parts)


PARSERS: list[Parser] = [
    Parser(product="fit.activities", matches=matches_tcx, parse=parse_tcx, sniff=sniff_tcx),
]
