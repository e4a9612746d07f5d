"""What current Takeouts still carry in the Location History folder.

Since Timeline moved to the phone (2024) the folder holds only:

- ``Settings.json``: the account's Location History settings and one entry per
  device that ever reported, ``{createdTime, modifiedTime, deviceSettings[...],
  hasReportedLocations, retentionControl{...}, ...}``. Small: read whole.
- ``Timeline Edits.json``: ``{"timelineEdits": [{deviceId, placeAggregates |
  rawSignal}]}``, the server-side traces of the phone's timeline: place
  rankings over a processing window and single raw signals. Points are
  ``{latE7, lngE7}`` here, unlike the phone's own export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from .. import jsonstream
from ..fields import check_coordinates, e7_to_degrees, parse_iso
from ..paths import folder_name, head_text
from ..records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MemberError,
    Parser,
    PlaceRecord,
    Record,
    describe_error,
    excerpt_of,
    peekable,
)
from .records import LOCATION_FOLDERS, folder_base

KIND_SETTINGS = "location.settings"
KIND_DEVICE_SETTING = "location.device_setting"
KIND_PLACE_AGGREGATES = "location.place_aggregates"
KIND_RAW_SIGNAL = "location.raw_signal"
KIND_TIMELINE_EDIT = "location.timeline_edit"

_SETTINGS_NAME = "settings.json"
_EDITS_NAME = "timeline edits.json"

# "Settings.json" is too common a name to claim alone: a lone or localised one
# is recognised by its content. The first key is one Settings.json starts with,
# and the head holds the device list or a field only this file has.
_SETTINGS_START = re.compile(
    r'\{\s*"(?:createdTime|modifiedTime|historyEnabled|deviceSettings)"\s*:'
)
_SETTINGS_DEVICES = re.compile(r'"deviceSettings"\s*:\s*\[\s*(?:\]|\{)')
_SETTINGS_ONLY_KEYS = (
    '"hasReportedLocations"',
    '"hasSetRetention"',
    '"retentionWindowDays"',
    '"historyEnabled"',
)
_EDITS_START = re.compile(r'\{\s*"timelineEdits"\s*:\s*\[')
_EDITS_LIST = re.compile(rb'"timelineEdits"\s*:\s*\[')

_ITEM_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


# -- matching ----------------------------------------------------------------


def _in_location_folder(path: PurePosixPath) -> bool:
    # Right inside the product's own location folder (the first folder or the
    # one under "Takeout"): "Chrome/Settings.json" and a Photos album called
    # "Location History" are not ours.
    folders = [folder_name(part) for part in path.parts[:-1]]
    if not folders or folder_base(folders[-1]) not in LOCATION_FOLDERS:
        return False
    return len(folders) == 1 or folders[-2] == "takeout"


def matches_settings(path: PurePosixPath) -> bool:
    return folder_name(path.name) == _SETTINGS_NAME and _in_location_folder(path)


def matches_edits(path: PurePosixPath) -> bool:
    if folder_name(path.name) != _EDITS_NAME:
        return False
    return len(path.parts) == 1 or _in_location_folder(path)


def sniff_settings(head: bytes) -> bool:
    text = head_text(head)
    if _SETTINGS_START.match(text) is None:
        return False
    if _SETTINGS_DEVICES.search(text) is not None:
        return True
    has_times = '"createdTime"' in text and '"modifiedTime"' in text
    return has_times and any(key in text for key in _SETTINGS_ONLY_KEYS)


def sniff_edits(head: bytes) -> bool:
    return _EDITS_START.match(head_text(head)) is not None


# -- Settings.json -----------------------------------------------------------


def parse_settings(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    settings = jsonstream.load_small(stream)
    if not isinstance(settings, dict):
        raise MemberError("not a Location History Settings.json: expected a JSON object")
    # Everything but the device list stays with the settings record, the
    # nested controls (retention, encrypted backups) included.
    account = {key: value for key, value in settings.items() if key != "deviceSettings"}
    scalars = {key: value for key, value in account.items() if not isinstance(value, dict | list)}
    devices = settings.get("deviceSettings", [])
    record: Record
    try:
        record = _settings_event(account, devices)
        modified = _optional_time(account, "modifiedTime")
    except _ITEM_ERRORS as exc:
        record = BadRecord(
            reason=f"unreadable Location History settings: {describe_error(exc)}",
            excerpt=excerpt_of(account),
        )
        modified = None
    yield record
    if not isinstance(devices, list):
        yield BadRecord(reason="deviceSettings is not a list", excerpt=excerpt_of(devices))
        return
    for device in devices:
        try:
            record = _device_event(device, scalars, modified)
        except _ITEM_ERRORS as exc:
            record = BadRecord(
                reason=f"unreadable device setting: {describe_error(exc)}",
                excerpt=excerpt_of(device),
            )
        yield record


def _settings_event(account: dict[str, Any], devices: Any) -> EventRecord:
    occurred_at = _optional_time(account, "modifiedTime") or _optional_time(account, "createdTime")
    count = len(devices) if isinstance(devices, list) else 0
    return EventRecord(
        kind=KIND_SETTINGS,
        occurred_at=occurred_at,
        title="Location History settings",
        text=f"{count} device{'' if count == 1 else 's'}",
        data=account,
    )


def _device_event(
    device: dict[str, Any], scalars: dict[str, Any], modified: datetime | None
) -> EventRecord:
    if not isinstance(device, dict):
        raise ValueError("not a JSON object")
    spec = device.get("deviceSpec")
    model = spec.get("model") if isinstance(spec, dict) else None
    name = _text(device.get("devicePrettyName")) or _text(model)
    reporting = device.get("reportingEnabled")
    details = [_text(device.get("platformType"))]
    if isinstance(reporting, bool):
        details.append(f"location reporting {'on' if reporting else 'off'}")
    return EventRecord(
        kind=KIND_DEVICE_SETTING,
        occurred_at=_optional_time(device, "deviceCreationTime") or modified,
        title=name or f"Device {device.get('deviceTag', '')}".strip(),
        text=", ".join(detail for detail in details if detail),
        data={**device, "settings": scalars},
    )


# -- Timeline Edits.json -----------------------------------------------------


def parse_edits(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    buffered = peekable(stream)
    head = buffered.peek(8192)
    count = 0
    for edit in jsonstream.iter_items(buffered, "timelineEdits.item"):
        count += 1
        yield from edit_records(edit)
    # ijson finds nothing, silently, in a file of another shape.
    if not count and _EDITS_LIST.search(head) is None:
        raise MemberError("not a Timeline Edits file: no timelineEdits list")


def edit_records(edit: Any) -> Iterator[Record]:
    """The records of one timeline edit; one edit may hold several parts."""
    if not isinstance(edit, dict):
        yield BadRecord(reason="timeline edit is not a JSON object", excerpt=excerpt_of(edit))
        return
    found = False
    if "placeAggregates" in edit:
        found = True
        yield from _place_aggregates(edit)
    if "rawSignal" in edit:
        found = True
        try:
            yield _raw_signal(edit)
        except _ITEM_ERRORS as exc:
            yield BadRecord(
                reason=f"unreadable raw signal: {describe_error(exc)}", excerpt=excerpt_of(edit)
            )
    if not found:
        yield _other_edit(edit)


def _place_aggregates(edit: dict[str, Any]) -> Iterator[Record]:
    aggregates = edit["placeAggregates"]
    if not isinstance(aggregates, dict):
        yield BadRecord(reason="placeAggregates is not a JSON object", excerpt=excerpt_of(edit))
        return
    window = {key: value for key, value in aggregates.items() if key != "placeAggregateInfo"}
    if "deviceId" in edit:
        window["deviceId"] = edit["deviceId"]
    infos = aggregates.get("placeAggregateInfo") or []
    if not isinstance(infos, list):
        yield BadRecord(reason="placeAggregateInfo is not a list", excerpt=excerpt_of(edit))
        infos = []
    for info in infos:
        # An entry without a place id is no place; the event below keeps it.
        if isinstance(info, dict) and info.get("placeId") is None:
            continue
        try:
            yield _aggregated_place(info, window)
        except _ITEM_ERRORS as exc:
            yield BadRecord(
                reason=f"unreadable aggregated place: {describe_error(exc)}",
                excerpt=excerpt_of(info),
            )
    try:
        yield _aggregates_event(edit, aggregates, len(infos))
    except _ITEM_ERRORS as exc:
        yield BadRecord(
            reason=f"unreadable placeAggregates: {describe_error(exc)}", excerpt=excerpt_of(edit)
        )


def _aggregated_place(info: dict[str, Any], window: dict[str, Any]) -> PlaceRecord:
    if not isinstance(info, dict):
        raise ValueError("not a JSON object")
    place_id = info["placeId"]
    if not isinstance(place_id, str) or not place_id:
        raise ValueError(f"not a place id: {place_id!r}")
    # placePoint is the place itself; point is where the phone saw it.
    point = info.get("placePoint") or info.get("point")
    latitude, longitude = _e7_point(point) if point is not None else (None, None)
    return PlaceRecord(
        place_id=place_id,
        latitude=latitude,
        longitude=longitude,
        data={**info, "window": window},
    )


def _aggregates_event(edit: dict[str, Any], aggregates: dict[str, Any], count: int) -> EventRecord:
    window = aggregates.get("processWindow") or {}
    if not isinstance(window, dict):
        raise ValueError("processWindow is not a JSON object")
    started_at = _optional_time(window, "startTime")
    ended_at = _optional_time(window, "endTime")
    hours = aggregates.get("windowSizeHrs")
    return EventRecord(
        kind=KIND_PLACE_AGGREGATES,
        occurred_at=ended_at or started_at,
        title=f"{count} frequent place{'' if count == 1 else 's'}",
        text=f"ranked over {hours} hours" if isinstance(hours, int | float) else "",
        data=edit,
    )


# position fields that have a LocationRecord field of their own (source only
# when it is a name, accuracy only in the unit that was used)
_POSITION_MAPPED = frozenset({"point", "timestamp", "altitudeMeters", "speedMetersPerSecond"})


def _raw_signal(edit: dict[str, Any]) -> Record:
    raw = edit["rawSignal"]
    if not isinstance(raw, dict):
        raise ValueError("rawSignal is not a JSON object")
    signal = raw.get("signal")
    if not isinstance(signal, dict):
        signal = {}
    position = signal.get("position")
    # Only a signal that is nothing but a timed position fits a LocationRecord
    # without losing anything; the rest becomes an event holding the whole edit.
    if list(signal) == ["position"] and isinstance(position, dict) and "timestamp" in position:
        return _position(edit, raw, position)
    occurred_at = _signal_time(signal) or _optional_time(raw, "additionalTimestamp")
    if occurred_at is None:
        raise ValueError("raw signal without a time")
    latitude, longitude = (None, None)
    if isinstance(position, dict) and position.get("point") is not None:
        latitude, longitude = _e7_point(position["point"])
    return EventRecord(
        kind=KIND_RAW_SIGNAL,
        occurred_at=occurred_at,
        title=_signal_title(signal),
        latitude=latitude,
        longitude=longitude,
        data=edit,
    )


def _position(
    edit: dict[str, Any], raw: dict[str, Any], position: dict[str, Any]
) -> LocationRecord:
    latitude, longitude = _e7_point(position["point"])
    extra = {key: value for key, value in position.items() if key not in _POSITION_MAPPED}
    # Timeline Edits give the accuracy in millimetres, the phone's export in metres.
    accuracy = _number(extra.pop("accuracyMeters", None))
    if accuracy is None:
        millimetres = _number(extra.pop("accuracyMm", None))
        accuracy = millimetres / 1000 if millimetres is not None else None
    source = position.get("source")
    if isinstance(source, str):
        del extra["source"]
    # The edit's other fields (deviceId, additionalTimestamp, metadata) too.
    extra.update((key, value) for key, value in edit.items() if key != "rawSignal")
    extra.update((key, value) for key, value in raw.items() if key != "signal")
    return LocationRecord(
        recorded_at=parse_iso(position["timestamp"]),
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy,
        altitude_m=_number(position.get("altitudeMeters")),
        velocity_mps=_number(position.get("speedMetersPerSecond")),
        source=_text(source),
        data=extra or None,
    )


_SIGNAL_TIMES = (
    ("position", "timestamp"),
    ("activityRecord", "timestamp"),
    ("wifiScan", "deliveryTime"),
)


def _signal_time(signal: dict[str, Any]) -> datetime | None:
    for key, field in _SIGNAL_TIMES:
        part = signal.get(key)
        if isinstance(part, dict) and part.get(field) is not None:
            return parse_iso(part[field])
    return None


def _signal_title(signal: dict[str, Any]) -> str:
    activity = signal.get("activityRecord")
    if isinstance(activity, dict):
        detected = activity.get("detectedActivities") or []
        likeliest: Any = max(detected, key=lambda a: _number(a.get("probability")) or 0, default={})
        return _text(likeliest.get("activityType")) or "Activity"
    scan = signal.get("wifiScan")
    if isinstance(scan, dict):
        devices = scan.get("devices") or []
        return f"{len(devices)} Wi-Fi access points"
    if "position" in signal:
        return "Position"
    return ", ".join(signal) or "Raw signal"


def _other_edit(edit: dict[str, Any]) -> Record:
    """An edit of a kind not seen yet: kept as an event when it says when."""
    try:
        occurred_at = _first_time(edit)
    except _ITEM_ERRORS as exc:
        return BadRecord(
            reason=f"unreadable timeline edit: {describe_error(exc)}", excerpt=excerpt_of(edit)
        )
    if occurred_at is None:
        return BadRecord(
            reason="timeline edit has no placeAggregates, rawSignal or time",
            excerpt=excerpt_of(edit),
        )
    return EventRecord(kind=KIND_TIMELINE_EDIT, occurred_at=occurred_at, data=edit)


def _first_time(value: Any) -> datetime | None:
    """The first "...Time" / "...timestamp" string anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and _is_time_key(key):
                return parse_iso(item)
        for item in value.values():
            found = _first_time(item)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _first_time(item)
            if found is not None:
                return found
    return None


def _is_time_key(key: str) -> bool:
    return key.endswith(("Time", "Timestamp")) or key in {"time", "timestamp"}


# -- field readers -----------------------------------------------------------


def _optional_time(container: dict[str, Any], key: str) -> datetime | None:
    value = container.get(key)
    return parse_iso(value) if value is not None else None


def _e7_point(point: Any) -> tuple[float, float]:
    if not isinstance(point, dict):
        raise ValueError(f"not a point: {point!r}")
    return check_coordinates(e7_to_degrees(point["latE7"]), e7_to_degrees(point["lngE7"]))


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


PARSERS: list[Parser] = [
    Parser(
        product="location.settings",
        matches=matches_settings,
        parse=parse_settings,
        sniff=sniff_settings,
    ),
    Parser(
        product="location.timeline_edits",
        matches=matches_edits,
        parse=parse_edits,
        sniff=sniff_edits,
    ),
]
