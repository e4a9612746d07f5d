"""The one normalizer: parser records to rows the writer can COPY.

UTC times, coordinates in decimal degrees (checked against their ranges),
text trimmed and without control characters (PostgreSQL text and jsonb cannot
hold NUL at all), the original fields kept as canonical JSON, provenance for
streamed records, and a content hash that makes re-imports add nothing.
Shared by Takeout imports and streams (connectors, webhooks, ingest): the
rules a value must follow live here, once; apps/stream/validation.py turns
their messages into per-field errors for API clients.

The content hash is computed from the record as the parser gave it (title
and url before cleaning, ``data`` without what this module adds to it), so
cleaning never changes the identity of a row already stored.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from apps.lake.takeout.records import (
    EventRecord,
    LocationRecord,
    PlaceRecord,
    Provenance,
    VisitRecord,
)


class InvalidValue(ValueError):
    """A value breaks one of the rules below; the message is written for the user."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _text(value: str | None) -> str:
    return value.replace("\x00", "") if value else ""


# Keys this module adds to an event's data; streams refuse them in what they receive.
ORIGINAL_KEY = "_original"  # {field: value as received} where cleaning changed more than edges
PROVENANCE_KEY = "_provenance"  # {"source", "connector", "received_at"}
# {"offset": "+05:30"[, "zone": "Asia/Kolkata"][, "ended_offset": ...]}: the clock of the
# place where it happened, when the source said so (see local_time_of).
LOCAL_TIME_KEY = "_local_time"
RESERVED_DATA_KEYS = frozenset({ORIGINAL_KEY, PROVENANCE_KEY, LOCAL_TIME_KEY})

# Control characters (C0, DEL, C1). Multi-line text keeps tab and line breaks;
# a one-line value (a title, a url) turns them into a space.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_LINE_BREAKS = re.compile(r"[\t\n\r]+")


def clean_text(value: str | None, *, multiline: bool) -> str:
    """``value`` trimmed, without control characters; one line unless ``multiline``."""
    if not value:
        return ""
    if multiline:
        return _CONTROL_IN_TEXT.sub("", value).strip()
    if _CONTROL_IN_LINE.search(value) is None:  # the common case
        return value.strip()
    return _CONTROL_IN_LINE.sub("", _LINE_BREAKS.sub(" ", value)).strip()


def check_coordinates(
    latitude: float | None, longitude: float | None
) -> tuple[float | None, float | None]:
    """Decimal degrees within their ranges; a lone half of a pair means no position."""
    if latitude is None or longitude is None:
        return None, None
    for field, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidValue(field, "must be a number of decimal degrees")
        if not math.isfinite(value) or not -limit <= value <= limit:
            raise InvalidValue(
                field, f"must be decimal degrees between -{limit} and {limit}, not {value!r}"
            )
    return float(latitude), float(longitude)


def parse_timestamp(value: Any, *, field: str = "time", keep_offset: bool = False) -> datetime:
    """An ISO 8601 time with its offset ("2026-11-30T18:04:05Z") or Unix seconds, in UTC;
    ``keep_offset``: the same moment at the offset it was written with ("+05:30"), which
    the normalizer keeps as the local time there (LOCAL_TIME_KEY)."""
    if isinstance(value, bool):
        raise InvalidValue(field, "must be an ISO 8601 time or Unix seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidValue(field, "must be a finite number of Unix seconds")
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidValue(field, f"{value!r} is not a time Datapunk can store") from None
    if not isinstance(value, str):
        raise InvalidValue(field, "must be an ISO 8601 time or Unix seconds")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(
            field, f"{excerpt(value)!r} is not an ISO 8601 time such as 2026-11-30T18:04:05Z"
        ) from None
    if moment.tzinfo is None:
        raise InvalidValue(
            field, f"{excerpt(value)!r} has no time zone: add Z for UTC or an offset like +01:00"
        )
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset: no such UTC time
        raise InvalidValue(field, f"{excerpt(value)!r} is not a time Datapunk can store") from None
    return moment if keep_offset else in_utc


def excerpt(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def iso_utc(moment: datetime) -> str:
    """The one text form of a time Datapunk shows and sends: UTC ISO 8601 with Z."""
    return utc(moment).isoformat().replace("+00:00", "Z")


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS

# A NUL in JSON text is the escape \u0000 after an even number of backslashes;
# after an odd number it is the text "\u0000" (an escaped backslash, then "u0000").
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def _drop_nul_escapes(json_text: bytes) -> bytes:
    """PostgreSQL's jsonb cannot hold NUL characters: drop them, keep everything else."""
    if b"\\u0000" not in json_text:  # the common case, without a regex
        return json_text
    return _NUL_ESCAPE.sub(rb"\1", json_text)


def canonical_json(data: Any) -> str:
    """Stable JSON (sorted keys) with NUL characters removed; also the hash input."""
    return _drop_nul_escapes(orjson.dumps(data, default=str, option=_CANONICAL)).decode()


def content_hash(*parts: str) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.digest()


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the normalizer")
    return moment.astimezone(UTC)


@dataclass(slots=True)
class EventRow:
    kind: str
    occurred_at: datetime
    ended_at: datetime | None
    title: str
    text: str
    url: str
    longitude: float | None
    latitude: float | None
    data_json: str
    content_hash: bytes
    history_format: str = ""  # see EventRecord.history_format
    merge_list: str = ""  # see EventRecord.merge_list
    version_key: str = ""  # see EventRecord.version_key


@dataclass(slots=True)
class VisitRow:
    place_id: str
    started_at: datetime
    ended_at: datetime | None
    longitude: float | None
    latitude: float | None
    confidence: float | None
    name: str
    address: str
    semantic_type: str
    data_json: str
    content_hash: bytes


@dataclass(slots=True)
class PlaceRow:
    place_id: str
    name: str
    address: str
    semantic_type: str
    longitude: float | None
    latitude: float | None
    data_json: str


# The time of items that have none of their own (a contact, a subscription, a
# saved place). One fixed instant, so the same item from another export, or
# from the same archive unpacked (new file times), is the same row; and undated
# items never pose as the newest on a timeline.
UNDATED = datetime(1970, 1, 1, tzinfo=UTC)


def _without(data: dict[str, Any], paths: tuple[str, ...]) -> dict[str, Any]:
    """``data`` less the dotted key paths given; ``data`` itself is left as it is."""
    result = dict(data)
    for path in paths:
        *parents, last = path.split(".")
        node: Any = result
        for key in parents:
            child = node.get(key) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                node = None
                break
            copy = dict(child)  # copied on the way down: data itself is never changed
            node[key] = copy
            node = copy
        if isinstance(node, dict):
            node.pop(last, None)
    return result


def _offset_text(moment: datetime) -> str:
    offset = moment.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_time_of(occurred_at: datetime | None, ended_at: datetime | None) -> dict[str, str]:
    """The source's own clock for the event, or {} when it gave UTC.

    A parser hands over its times as the source wrote them: a Fit or phone timeline
    time with "+05:30", a calendar event at its TZID. That offset (and the zone's name
    where the source named one) is the local time of the place where it happened; the
    pages show it beside the user's own time when the two differ. A time at offset 0
    without a named zone is taken as the source's way of writing UTC, not as a place.
    """
    if occurred_at is None or occurred_at.tzinfo is None:
        return {}
    zone = getattr(occurred_at.tzinfo, "key", "")  # a ZoneInfo names its zone
    offset = occurred_at.utcoffset()
    if not zone and not offset:
        return {}
    if zone in ("UTC", "Etc/UTC"):
        return {}
    local = {"offset": _offset_text(occurred_at)}
    if zone:
        local["zone"] = zone
    if ended_at is not None and ended_at.utcoffset() != offset:
        local["ended_offset"] = _offset_text(ended_at)
    return local


def _stored_data(record: EventRecord, title: str, text: str, url: str) -> dict[str, Any]:
    """The record's data plus what cleaning took away, where it came from and the
    local time there (none of them part of its identity)."""
    data = record.data
    originals = {
        field: raw
        for field, raw, cleaned in (
            ("title", record.title, title),
            ("text", record.text, text),
            ("url", record.url, url),
        )
        # Whitespace at the edges carries nothing worth a second copy of the value.
        if raw and cleaned != raw.strip()
    }
    local = local_time_of(record.occurred_at, record.ended_at)
    if originals or record.provenance is not None or local:
        data = dict(data)
        if originals:
            data[ORIGINAL_KEY] = originals
        if record.provenance is not None:
            data[PROVENANCE_KEY] = provenance_dict(record.provenance)
        if local:
            data[LOCAL_TIME_KEY] = local
    return data


def provenance_dict(provenance: Provenance) -> dict[str, str]:
    return {
        "source": provenance.source,
        "connector": provenance.connector,
        "received_at": iso_utc(provenance.received_at),
    }


def event_row(record: EventRecord) -> EventRow:
    occurred_at = UNDATED if record.occurred_at is None else utc(record.occurred_at)
    latitude, longitude = check_coordinates(record.latitude, record.longitude)
    title = clean_text(record.title, multiline=False)
    text = clean_text(record.text, multiline=True)
    url = clean_text(record.url, multiline=False)
    # Identity from the record as parsed (see the module docstring): never from
    # the cleaned values or the keys added to data.
    identity_json = canonical_json(
        _without(record.data, record.copy_fields) if record.copy_fields else record.data
    )
    data = _stored_data(record, title, text, url)
    data_json = (
        identity_json if data is record.data and not record.copy_fields else canonical_json(data)
    )
    return EventRow(
        kind=record.kind,
        occurred_at=occurred_at,
        ended_at=utc(record.ended_at) if record.ended_at else None,
        title=title,
        text=text,
        url=url,
        longitude=longitude,
        latitude=latitude,
        data_json=data_json,
        content_hash=content_hash(record.kind, occurred_at.isoformat(), "identity", record.identity)
        if record.identity
        else content_hash(
            record.kind, occurred_at.isoformat(), record.title, record.url, identity_json
        ),
        history_format=record.history_format,
        merge_list=record.merge_list,
        version_key=record.version_key,
    )


def version_of(data: dict[str, Any], key: str) -> int:
    """The version number at ``data[key]`` (0 when there is none)."""
    try:
        return int(data.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def merge_event_rows(first: EventRow, second: EventRow) -> EventRow:
    """One row of two rows of the same item (same identity) in one batch.

    What the writer's upserts do across batches, done before they meet:
    ``merge_list`` lists are united; with ``version_key`` the newest version
    wins and every other is kept in ``data["history"]`` (one per version,
    oldest first).
    """
    a, b = orjson.loads(first.data_json), orjson.loads(second.data_json)
    if first.merge_list:
        key = first.merge_list
        a[key] = sorted({*(a.get(key) or ()), *(b.get(key) or ())})
        return replace(first, data_json=canonical_json(a))
    key = first.version_key
    newer_row, newer, older = (
        (second, b, a) if version_of(b, key) > version_of(a, key) else (first, a, b)
    )
    versions = {
        version_of(item, key): item
        for item in (*(older.get("history") or ()), *(newer.get("history") or ()))
        if isinstance(item, dict)
    }
    versions[version_of(older, key)] = {k: v for k, v in older.items() if k != "history"}
    versions.pop(version_of(newer, key), None)
    data = {k: v for k, v in newer.items() if k != "history"}
    data["history"] = [versions[v] for v in sorted(versions)]
    return replace(newer_row, data_json=canonical_json(data))


_EWKB_POINT = struct.Struct("<BIIdd")
_EWKB_POINT_SRID = 0x20000001  # little-endian Point with an SRID


def ewkb_point(longitude: float, latitude: float) -> bytes:
    """A WGS 84 point as EWKB, the binary form PostGIS receives fastest."""
    return _EWKB_POINT.pack(1, _EWKB_POINT_SRID, 4326, longitude, latitude)


def jsonb_binary(data: Any) -> bytes:
    """jsonb's binary wire form: a version byte, then the JSON text."""
    return b"\x01" + _drop_nul_escapes(
        orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)
    )


_dumps = orjson.dumps
_pack_point = _EWKB_POINT.pack


def location_row(
    record: LocationRecord, user_id: int | None = None, entry_id: int | None = None
) -> tuple:
    """A binary COPY tuple (see batch.points.POINT_COLUMNS), ``user_id`` and ``entry_id`` last.

    The hot path, once per point: one tuple and the bytes COPY sends, nothing
    else (no hashing: the point's time and place are its identity; no call
    per point beyond the packing and the JSON of ``data``; jsonb_binary inlined).
    """
    recorded_at = record.recorded_at
    if recorded_at.tzinfo is not UTC:
        recorded_at = utc(recorded_at)
    source = record.source or ""
    if "\x00" in source:
        source = source.replace("\x00", "")
    data_binary: bytes | None = None
    if record.data:
        raw = record.data_json
        if raw is None:
            raw = _dumps(record.data, default=str, option=orjson.OPT_NON_STR_KEYS)
        data_binary = b"\x01" + (raw if b"\\u0000" not in raw else _NUL_ESCAPE.sub(rb"\1", raw))
    return (
        recorded_at,
        _pack_point(1, _EWKB_POINT_SRID, 4326, record.longitude, record.latitude),
        record.accuracy_m,
        record.altitude_m,
        record.velocity_mps,
        record.heading_deg,
        source,
        data_binary,
        user_id,
        entry_id,
    )


def visit_row(record: VisitRecord) -> VisitRow:
    data_json = canonical_json(record.data)
    started_at = utc(record.started_at)
    ended_at = utc(record.ended_at) if record.ended_at else None
    latitude, longitude = check_coordinates(record.latitude, record.longitude)
    return VisitRow(
        place_id=_text(record.place_id),
        started_at=started_at,
        ended_at=ended_at,
        longitude=longitude,
        latitude=latitude,
        confidence=record.confidence,
        name=_text(record.name),
        address=_text(record.address),
        semantic_type=_text(record.semantic_type),
        data_json=data_json,
        content_hash=content_hash(
            "visit",
            started_at.isoformat(),
            ended_at.isoformat() if ended_at else "",
            record.place_id,
            f"{record.latitude},{record.longitude}",
        ),
    )


def place_row(record: PlaceRecord) -> PlaceRow:
    if not record.place_id:
        raise ValueError("a place without a placeId cannot be kept apart from others")
    latitude, longitude = check_coordinates(record.latitude, record.longitude)
    return PlaceRow(
        place_id=_text(record.place_id),
        name=_text(record.name),
        address=_text(record.address),
        semantic_type=_text(record.semantic_type),
        longitude=longitude,
        latitude=latitude,
        data_json=canonical_json(record.data),
    )
