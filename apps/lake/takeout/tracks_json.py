"""Track files in JSON shapes, and the fix formats phone apps send.

- GeoJSON FeatureCollections of timed Points (Overland's batches are the same
  Features), LineStrings with ``coordTimes`` (togeojson) as timed points and
  LineStrings without times as undated paths.
- OwnTracks Recorder ``.rec`` files: one line per message,
  ``<ISO time>\\t<topic or *>\\t<OwnTracks JSON>``.

``geojson_feature_records`` and ``owntracks_records`` are also what the live
device endpoints (apps/stream/devices) read phones' messages with: one
reading of each format, for files and for streams.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import orjson

from . import jsonstream
from .fields import check_coordinates, parse_iso
from .paths import head_text
from .records import BadRecord, EventRecord, LocationRecord, MemberError, Parser, Record, excerpt_of
from .tracks import path_events

_TIME_KEYS = ("timestamp", "time", "datetime", "date", "recorded_at", "when")
_ALTITUDE_KEYS = ("altitude", "alt", "ele", "elevation")
_SPEED_KEYS = ("speed", "velocity")
_HEADING_KEYS = ("course", "heading", "bearing")
_ACCURACY_KEYS = ("horizontal_accuracy", "accuracy", "acc")
_FEATURE_COLLECTION = re.compile(r'"type"\s*:\s*"FeatureCollection"')
# Epoch numbers above this are milliseconds (1e11 seconds is the year 5138).
_MS_THRESHOLD = 100_000_000_000


def moment_of(value: Any) -> datetime:
    """ISO 8601 text or epoch seconds/milliseconds (by magnitude) as an aware datetime."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"not an epoch time: {value!r}") from None
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        return moment_of(float(value))
    return parse_iso(value)


def _number(properties: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = properties.pop(key, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key} must be a number, not {value!r}")
        return float(value)
    return None


def geojson_feature_records(feature: Any, source: str = "geojson") -> Iterator[Record]:
    """One GeoJSON Feature as records: a timed Point is a fix (Overland's shape)."""
    try:
        geometry = feature["geometry"]
        kind = geometry["type"]
        coordinates = geometry["coordinates"]
        properties = dict(feature.get("properties") or {})
    except (KeyError, TypeError, AttributeError):
        yield BadRecord(f"{source}: not a GeoJSON Feature with a geometry", excerpt_of(feature))
        return
    try:
        if kind == "Point":
            yield _point_record(coordinates, properties, source)
        elif kind == "LineString":
            yield from _line_records(coordinates, properties, source)
        elif kind == "MultiLineString":
            for line in coordinates:
                yield from _line_records(line, dict(properties), source)
        else:
            raise ValueError(f"a {kind} geometry is not a track")
    except (ValueError, TypeError, IndexError) as exc:
        yield BadRecord(f"{source} Feature: {exc}", excerpt_of(feature))


def _lon_lat(position: Any) -> list[float]:
    if not isinstance(position, list) or len(position) < 2:
        raise ValueError(f"not a GeoJSON position: {position!r}")
    lon, lat = float(position[0]), float(position[1])
    lat, lon = check_coordinates(lat, lon)
    return [lon, lat] + (
        [float(position[2])] if len(position) > 2 and position[2] is not None else []
    )


def _point_record(coordinates: Any, properties: dict[str, Any], source: str) -> LocationRecord:
    position = _lon_lat(coordinates)
    stamp = next((properties.pop(k) for k in _TIME_KEYS if properties.get(k) is not None), None)
    if stamp is None:
        raise ValueError("a point without a time (properties.timestamp or time)")
    altitude = _number(properties, _ALTITUDE_KEYS)
    if altitude is None and len(position) > 2:
        altitude = position[2]
    return LocationRecord(
        recorded_at=moment_of(stamp),
        latitude=position[1],
        longitude=position[0],
        accuracy_m=_number(properties, _ACCURACY_KEYS),
        altitude_m=altitude,
        velocity_mps=_number(properties, _SPEED_KEYS),
        heading_deg=_number(properties, _HEADING_KEYS),
        source=source,
        data=properties or None,
    )


def _line_records(coordinates: Any, properties: dict[str, Any], source: str) -> Iterator[Record]:
    positions = [_lon_lat(position) for position in coordinates]
    times = properties.pop("coordTimes", None) or properties.pop("times", None)
    if isinstance(times, list) and len(times) == len(positions):
        for position, stamp in zip(positions, times, strict=True):
            yield LocationRecord(
                recorded_at=moment_of(stamp),
                latitude=position[1],
                longitude=position[0],
                altitude_m=position[2] if len(position) > 2 else None,
                source=source,
                data=properties or None,
            )
        return
    if not positions:
        raise ValueError("a LineString without coordinates")
    yield from path_events(
        positions,
        source=source,
        name=str(properties.get("name") or ""),
        reason="the line has no times (no coordTimes of the same length)",
        extra={"properties": properties} if properties else None,
    )


def sniff_geojson(head: bytes) -> bool:
    text = head_text(head)
    return text.startswith("{") and _FEATURE_COLLECTION.search(text) is not None


def parse_geojson(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for feature in jsonstream.iter_items(stream, "features.item"):
        yield from geojson_feature_records(feature)


# OwnTracks ---------------------------------------------------------------

OWNTRACKS_SOURCE = "owntracks"
# Messages that say nothing about where the phone was: not stored.
OWNTRACKS_IGNORED = frozenset({"lwt", "card", "cmd", "status", "beacon", "steps", "encrypted"})
_KMH = 1 / 3.6


def owntracks_records(message: Any, extra: dict[str, Any] | None = None) -> Iterator[Record]:
    """One OwnTracks JSON message as records (``_type`` location, transition, waypoint(s)).

    ``vel`` is km/h in OwnTracks and stored as m/s; ``tst`` is epoch seconds.
    ``extra`` (the device, the topic) is kept in each record's data.
    """
    if not isinstance(message, dict):
        yield BadRecord("OwnTracks message is not a JSON object", excerpt_of(message))
        return
    kind = message.get("_type")
    if kind in OWNTRACKS_IGNORED:
        return
    try:
        if kind == "location":
            yield _owntracks_location(dict(message), extra)
        elif kind in ("transition", "waypoint"):
            yield _owntracks_event(kind, message, extra)
        elif kind == "waypoints":
            for waypoint in message.get("waypoints") or []:
                yield _owntracks_event("waypoint", waypoint, extra)
        else:
            yield BadRecord(f"OwnTracks message of unknown _type {kind!r}", excerpt_of(message))
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"no {exc.args[0]}" if isinstance(exc, KeyError) else str(exc)
        yield BadRecord(f"OwnTracks {kind}: {reason}", excerpt_of(message))


def _owntracks_number(message: dict[str, Any], key: str) -> float | None:
    value = message.pop(key, None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, not {value!r}")
    return float(value)


def _owntracks_location(message: dict[str, Any], extra: dict[str, Any] | None) -> LocationRecord:
    message.pop("_type")
    tst = message.pop("tst")
    if isinstance(tst, bool) or not isinstance(tst, int | float):
        raise ValueError(f"tst must be epoch seconds, not {tst!r}")
    latitude = _owntracks_number(message, "lat")
    longitude = _owntracks_number(message, "lon")
    if latitude is None or longitude is None:
        raise KeyError("lat" if latitude is None else "lon")
    velocity = _owntracks_number(message, "vel")
    data = {**message, **(extra or {})}
    return LocationRecord(
        recorded_at=moment_of(tst),
        latitude=latitude,
        longitude=longitude,
        accuracy_m=_owntracks_number(message, "acc") if "acc" in message else None,
        altitude_m=_owntracks_number(message, "alt") if "alt" in message else None,
        velocity_mps=velocity * _KMH if velocity is not None else None,
        heading_deg=_owntracks_number(message, "cog") if "cog" in message else None,
        source=OWNTRACKS_SOURCE,
        data={k: v for k, v in data.items() if k not in ("acc", "alt", "cog")} or None,
    )


def _owntracks_event(kind: str, message: Any, extra: dict[str, Any] | None) -> EventRecord:
    stamp = message.get("tst")
    latitude, longitude = message.get("lat"), message.get("lon")
    if latitude is not None and longitude is not None:
        latitude, longitude = check_coordinates(float(latitude), float(longitude))
    description = str(message.get("desc") or "")
    title = (
        f"{message.get('event', '')} {description}".strip()
        if kind == "transition"
        else description or "waypoint"
    )
    return EventRecord(
        kind=f"owntracks.{kind}",
        occurred_at=moment_of(stamp) if stamp is not None else None,
        title=title,
        latitude=latitude,
        longitude=longitude,
        data={**message, **(extra or {})},
    )


_REC_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t")


def sniff_rec(head: bytes) -> bool:
    return _REC_LINE.match(head_text(head)) is not None


def parse_rec(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    """An OwnTracks Recorder month file, line by line."""
    for number, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise MemberError(f"line {number} of the .rec file is not UTF-8") from None
        fields = text.split("\t", 2)
        if len(fields) != 3:
            yield BadRecord(f".rec line {number}: not time, topic and JSON", excerpt_of(text))
            continue
        try:
            message = orjson.loads(fields[2])
        except orjson.JSONDecodeError as exc:
            yield BadRecord(f".rec line {number}: invalid JSON ({exc})", excerpt_of(text))
            continue
        topic = fields[1].strip()
        yield from owntracks_records(message, {"topic": topic} if topic and topic != "*" else None)


PARSERS: list[Parser] = [
    Parser(
        product="tracks.geojson",
        matches=lambda path: False,
        parse=parse_geojson,
        sniff=sniff_geojson,
    ),
    Parser(
        product="tracks.owntracks_rec", matches=lambda path: False, parse=parse_rec, sniff=sniff_rec
    ),
]
