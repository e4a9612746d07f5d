"""On-device Timeline exports (2024+), from the phone rather than from Takeout.

Android writes one object (``Timeline.json``, file name localised)::

    {"semanticSegments": [...], "rawSignals": [...], "userLocationProfile": {...}}

iOS writes ``location-history.json``, a bare array of segments in which every
number is a string and points are ``"geo:lat,lng"``. The segments of both
share one shape ({startTime, endTime, visit | activity | timelinePath |
timelineMemory}), so one reader serves both; users rename these files, so
either parser reads either layout, told apart by the first byte.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import ijson

from .. import jsonstream
from ..fields import parse_iso, parse_latlng
from ..paths import head_text
from ..records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MemberError,
    Parser,
    PlaceRecord,
    Record,
    VisitRecord,
    describe_error,
    excerpt_of,
    peekable,
)

KIND_ACTIVITY = "location.activity"
KIND_MEMORY = "location.memory"
KIND_ACTIVITY_RECORD = "location.activity_record"
KIND_WIFI_SCAN = "location.wifi_scan"

# "Timeline.json" as the Android export names it in the phone's language. The
# German, French and Spanish names are seen in public importers; the others
# are the app's own word for Timeline, unverified (sniffing catches misses).
_ANDROID_NAMES = frozenset(
    {
        "timeline.json",
        "zeitachse.json",  # de
        "chronologie.json",  # fr
        "cronología.json",  # es
        "cronologia.json",  # it, pt
        "linha do tempo.json",  # pt-BR
        "tijdlijn.json",  # nl
        "oś czasu.json",  # pl
        "tidslinje.json",  # da, no
        "tidslinjen.json",  # sv
        "aikajana.json",  # fi
        "časová osa.json",  # cs
        "タイムライン.json",  # ja
    }
)
_IOS_NAMES = frozenset({"location-history.json", "location_history.json"})

_ANDROID_SNIFF = re.compile(r'\{\s*"(?:semanticSegments|rawSignals|userLocationProfile)"\s*:')
_IOS_SNIFF = re.compile(r'\[\s*\{\s*"(?:startTime|endTime)"\s*:')
_SEGMENT_KEYS = ('"visit"', '"activity"', '"timelinePath"', '"timelineMemory"')
_BOM = b"\xef\xbb\xbf"

# One bad item must not cost the file, so each item is read under these.
_ITEM_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def _name(path: PurePosixPath) -> str:
    # Zips made on macOS spell "í" as "i" + combining accent.
    return unicodedata.normalize("NFC", path.name).casefold()


def matches_android(path: PurePosixPath) -> bool:
    return _name(path) in _ANDROID_NAMES


def matches_ios(path: PurePosixPath) -> bool:
    return _name(path) in _IOS_NAMES


def sniff_android(head: bytes) -> bool:
    return _ANDROID_SNIFF.match(head_text(head)) is not None


def sniff_ios(head: bytes) -> bool:
    text = head_text(head)
    return _IOS_SNIFF.match(text) is not None and any(key in text for key in _SEGMENT_KEYS)


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    buffered = peekable(stream)
    if buffered.peek(3)[:3] == _BOM:
        buffered.read(3)
    first = buffered.peek(256).lstrip()[:1]
    if first == b"[":
        for segment in jsonstream.iter_items(buffered, "item"):
            yield from segment_records(segment)
    elif first == b"{":
        yield from _android(buffered)
    else:
        raise MemberError("not a Timeline export: expected a JSON object or array")


def _android(stream: BinaryIO) -> Iterator[Record]:
    keys: set[str] = set()
    for key, value in _top_level_items(stream, keys):
        if key == "semanticSegments":
            yield from segment_records(value)
        elif key == "rawSignals":
            yield from signal_records(value)
        elif key == "userLocationProfile":
            yield from profile_records(value)
    if not keys & {"semanticSegments", "rawSignals", "userLocationProfile"}:
        raise MemberError(
            "not a Timeline export: no semanticSegments, rawSignals or userLocationProfile"
        )


# -- segments (Android semanticSegments[] and the iOS array) ------------------


def segment_records(segment: Any) -> Iterator[Record]:
    """A visit, an activity, a memory and/or path points: one segment may hold several."""
    if not isinstance(segment, dict):
        yield BadRecord(reason="segment is not a JSON object", excerpt=excerpt_of(segment))
        return
    found = False
    for key, build in _SEGMENT_PARTS:
        if key in segment:
            if not found:
                # The path points become their own records; the rest is each record's data.
                data = {name: value for name, value in segment.items() if name != "timelinePath"}
            found = True
            try:
                yield build(segment[key], segment, data)
            except _ITEM_ERRORS as exc:
                yield BadRecord(
                    reason=f"unreadable {key}: {describe_error(exc)}", excerpt=excerpt_of(data)
                )
    if "timelinePath" in segment:
        found = True
        yield from _path(segment)
    if not found:
        yield BadRecord(
            reason="segment has no visit, activity, timelinePath or timelineMemory",
            excerpt=excerpt_of(segment),
        )


def _visit(visit: dict[str, Any], segment: dict[str, Any], data: dict[str, Any]) -> VisitRecord:
    candidate = visit.get("topCandidate") or {}
    latitude, longitude = _point(candidate.get("placeLocation"))
    return VisitRecord(
        started_at=_time(segment, "startTime"),
        ended_at=_optional_time(segment, "endTime"),
        latitude=latitude,
        longitude=longitude,
        # iOS spells it "placeID".
        place_id=_text(candidate.get("placeId", candidate.get("placeID"))),
        semantic_type=_text(candidate.get("semanticType")),
        confidence=_number(candidate.get("probability")),
        data=data,
    )


def _activity(
    activity: dict[str, Any], segment: dict[str, Any], data: dict[str, Any]
) -> EventRecord:
    candidate = activity.get("topCandidate") or {}
    latitude, longitude = _point(activity.get("start"))
    return EventRecord(
        kind=KIND_ACTIVITY,
        occurred_at=_time(segment, "startTime"),
        ended_at=_optional_time(segment, "endTime"),
        title=_text(candidate.get("type")),
        latitude=latitude,
        longitude=longitude,
        data=data,
    )


def _memory(memory: dict[str, Any], segment: dict[str, Any], data: dict[str, Any]) -> EventRecord:
    # Android nests the trip as {"trip": {...}}; iOS writes its fields directly.
    trip = memory.get("trip", memory)
    distance = _number(trip.get("distanceFromOriginKms"))
    return EventRecord(
        kind=KIND_MEMORY,
        occurred_at=_time(segment, "startTime"),
        ended_at=_optional_time(segment, "endTime"),
        title="Trip" if "trip" in memory or "destinations" in memory else "Timeline memory",
        text=f"{distance:g} km from origin" if distance is not None else "",
        data=data,
    )


_SEGMENT_PARTS = (("visit", _visit), ("activity", _activity), ("timelineMemory", _memory))


def _path(segment: dict[str, Any]) -> Iterator[Record]:
    points = segment["timelinePath"]
    if not isinstance(points, list):
        yield BadRecord(reason="timelinePath is not a list", excerpt=excerpt_of(points))
        return
    start: datetime | None = None
    for point in points:
        try:
            if "time" in point:
                recorded_at = _iso(point["time"])
            else:
                # iOS: minutes after the segment's start, as a string.
                start = start or _time(segment, "startTime")
                offset = float(point["durationMinutesOffsetFromStartTime"])
                recorded_at = start + timedelta(minutes=offset)
            latitude, longitude = parse_latlng(point["point"])
        except _ITEM_ERRORS as exc:
            yield BadRecord(
                reason=f"unreadable timelinePath point: {describe_error(exc)}",
                excerpt=excerpt_of(point),
            )
            continue
        yield LocationRecord(recorded_at, latitude, longitude, source="timelinePath")


# -- Android rawSignals[] ----------------------------------------------------

# position fields that have a LocationRecord field of their own
_POSITION_MAPPED = frozenset(
    {
        "LatLng",
        "latLng",
        "timestamp",
        "accuracyMeters",
        "altitudeMeters",
        "speedMetersPerSecond",
        "source",
    }
)


def signal_records(signal: Any) -> Iterator[Record]:
    """One raw signal; the hand-written samples put several kinds in one."""
    if not isinstance(signal, dict) or not signal:
        yield BadRecord(reason="raw signal is not a JSON object", excerpt=excerpt_of(signal))
        return
    for key, value in signal.items():
        build = _SIGNAL_PARTS.get(key)
        if build is None:
            yield BadRecord(reason=f"unknown raw signal {key!r}", excerpt=excerpt_of({key: value}))
            continue
        try:
            yield build(value)
        except _ITEM_ERRORS as exc:
            yield BadRecord(
                reason=f"unreadable {key}: {describe_error(exc)}", excerpt=excerpt_of({key: value})
            )


def _position(position: dict[str, Any]) -> LocationRecord:
    latitude, longitude = _point(position)
    if latitude is None or longitude is None:
        raise KeyError("LatLng")
    extra = {key: value for key, value in position.items() if key not in _POSITION_MAPPED}
    return LocationRecord(
        recorded_at=_iso(position["timestamp"]),
        latitude=latitude,
        longitude=longitude,
        accuracy_m=_number(position.get("accuracyMeters")),
        altitude_m=_number(position.get("altitudeMeters")),
        velocity_mps=_number(position.get("speedMetersPerSecond")),
        source=_text(position.get("source")),
        data=extra or None,
    )


def _activity_record(record: dict[str, Any]) -> EventRecord:
    activities = record.get("probableActivities") or []
    likeliest: Any = max(activities, key=lambda a: _number(a.get("confidence")) or 0, default={})
    return EventRecord(
        kind=KIND_ACTIVITY_RECORD,
        occurred_at=_iso(record["timestamp"]),
        title=_text(likeliest.get("type")),
        data=record,
    )


def _wifi_scan(scan: dict[str, Any]) -> EventRecord:
    devices = scan.get("devicesRecords") or []
    return EventRecord(
        kind=KIND_WIFI_SCAN,
        occurred_at=_iso(scan["deliveryTime"]),
        title=f"{len(devices)} Wi-Fi access points",
        data=scan,
    )


_SIGNAL_PARTS: dict[str, Callable[[dict[str, Any]], Record]] = {
    "position": _position,
    "activityRecord": _activity_record,
    "wifiScan": _wifi_scan,
}


# -- Android userLocationProfile ---------------------------------------------


def profile_records(profile: Any) -> Iterator[Record]:
    places = profile.get("frequentPlaces") if isinstance(profile, dict) else None
    for place in places or ():
        try:
            yield _frequent_place(place)
        except _ITEM_ERRORS as exc:
            yield BadRecord(
                reason=f"unreadable frequent place: {describe_error(exc)}",
                excerpt=excerpt_of(place),
            )


def _frequent_place(place: dict[str, Any]) -> PlaceRecord:
    place_id = place["placeId"]
    if not isinstance(place_id, str) or not place_id:
        raise ValueError(f"not a place id: {place_id!r}")
    latitude, longitude = _point(place.get("placeLocation"))
    return PlaceRecord(
        place_id=place_id,
        latitude=latitude,
        longitude=longitude,
        semantic_type=_text(place.get("label")),  # HOME, WORK...
        data=place,
    )


# -- reading -----------------------------------------------------------------


def _top_level_items(stream: BinaryIO, keys: set[str]) -> Iterator[tuple[str, Any]]:
    """(key, item) for each item of the top-level object's arrays, in one pass.

    Other top-level values come whole as (key, value); ``keys`` collects
    every top-level key, empty arrays' included.

    ijson's fast ``items`` follows one prefix; the Android file holds two big
    arrays, so this builds the items from its events instead (about half the
    speed of ``items``, and memory stays one item).
    """
    try:
        events = ijson.basic_parse(stream, use_float=True)
        event, _ = next(events)
        if event != "start_map":
            raise MemberError("not a Timeline export: expected a JSON object")
        for event, key in events:
            if event == "end_map":
                break
            keys.add(key)
            event, value = next(events)
            if event == "start_array":
                for event, value in events:
                    if event == "end_array":
                        break
                    yield key, _build(events, event, value)
            else:
                yield key, _build(events, event, value)
        for _ in events:  # let ijson check that nothing follows
            pass
    except ijson.JSONError as exc:
        raise MemberError(f"invalid or truncated JSON: {exc}") from None
    except UnicodeDecodeError as exc:
        raise MemberError(f"not UTF-8 encoded JSON: {exc}") from None
    except StopIteration:
        raise MemberError("invalid or truncated JSON: empty file") from None


def _build(events: Iterator[tuple[str, Any]], event: str, value: Any) -> Any:
    """The JSON value that starts with (event, value), read from ``events``."""
    if event == "start_map":
        root: Any = {}
    elif event == "start_array":
        root = []
    else:
        return value
    stack: list[Any] = []
    current = root
    key = None
    for event, value in events:
        if event == "map_key":
            key = value
        elif event == "start_map" or event == "start_array":
            child: Any = {} if event == "start_map" else []
            if type(current) is dict:
                current[key] = child
            else:
                current.append(child)
            stack.append(current)
            current = child
        elif event == "end_map" or event == "end_array":
            if not stack:
                return root
            current = stack.pop()
        elif type(current) is dict:
            current[key] = value
        else:
            current.append(value)
    raise MemberError("invalid or truncated JSON: the file ends inside a value")


# -- field readers -----------------------------------------------------------


def _iso(value: Any) -> datetime:
    # Every point has a timestamp: the C parser first, parse_iso's regex (and
    # its error message) only for what it refuses.
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return parse_iso(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _time(segment: dict[str, Any], key: str) -> datetime:
    return _iso(segment[key])


def _optional_time(segment: dict[str, Any], key: str) -> datetime | None:
    return _iso(segment[key]) if segment.get(key) is not None else None


def _point(value: Any) -> tuple[float | None, float | None]:
    """Android {"latLng": "48.1°, 11.1°"}, iOS "geo:48.1,11.1", or nothing."""
    if isinstance(value, dict):
        value = value.get("latLng", value.get("LatLng"))
    if value is None:
        return None, None
    return parse_latlng(value)


def _number(value: Any) -> float | None:
    """A number, or iOS's number in a string; None when absent."""
    if value is None or isinstance(value, bool):
        return None
    return float(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


PARSERS: list[Parser] = [
    Parser(
        product="location.device_android", matches=matches_android, parse=parse, sniff=sniff_android
    ),
    Parser(product="location.device_ios", matches=matches_ios, parse=parse, sniff=sniff_ios),
]
