"""Raw location history: ``Records.json`` (older ``Location History.json``).

One object ``{"locations": [...]}`` of position fixes, often 1-2 GB and tens
of millions of items, so this is the importer's hot path: each item is read
once, with no regular expression and no copy beyond the record itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from ..fields import check_coordinates, e7_to_degrees, from_epoch_ms, parse_iso
from ..paths import head_text, lower_parts
from ..records import BadRecord, LocationRecord, Parser, Record, excerpt_of
from . import records_fast

# Base names of the "Location History" folder in the languages we know of.
# Takeout appends a suffix in parentheses since 2022 ("Location History
# (Timeline)", "Standortverlauf (Zeitachse)"), which folder_base() strips.
LOCATION_FOLDERS = frozenset(
    {
        "location history",
        "location history timeline",  # "(Timeline)" after some unzip tools strip brackets
        "standortverlauf",
        "historique des positions",
        "historial de ubicaciones",
        "cronologia delle posizioni",
        "locatiegeschiedenis",
        "historia lokalizacji",
        "histórico de localização",
        "histórico de localizações",
    }
)

_RECORDS_NAMES = frozenset({"records.json", "location history.json", "locationhistory.json"})
_SNIFF = re.compile(r'\{\s*"locations"\s*:\s*\[\s*(?:\]|\{)')

# Item keys that land in LocationRecord's own fields, in the order parse()
# takes them out; all others go to ``data``.
_MAPPED = (
    "latitudeE7",
    "longitudeE7",
    "timestamp",
    "timestampMs",
    "accuracy",
    "altitude",
    "velocity",
    "heading",
    "source",
)

_fromisoformat = datetime.fromisoformat
_fromtimestamp = datetime.fromtimestamp

# Outside these E7 bounds a point is off the globe (the fast path's range check).
_LAT_E7 = 900_000_000
_LNG_E7 = 1_800_000_000


def folder_base(part: str) -> str:
    """A casefolded folder name without Takeout's "(...)" suffix."""
    return part.split(" (", 1)[0].strip()


def in_location_folder(path: PurePosixPath) -> bool:
    return any(folder_base(part) in LOCATION_FOLDERS for part in lower_parts(path)[:-1])


def matches(path: PurePosixPath) -> bool:
    name = path.name.casefold()
    if name not in _RECORDS_NAMES:
        return False
    # "Records.json" alone says little: claim it in a location folder or as a lone file.
    return len(path.parts) == 1 or in_location_folder(path)


def sniff(head: bytes) -> bool:
    text = head_text(head)
    match = _SNIFF.match(text)
    return match is not None and (text[match.end() - 1] == "]" or '"latitudeE7"' in text)


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    """The file's fixes in order; the common layout and shape of a fix through
    ``records_fast`` (msgspec, a chunk of fixes at a time), anything else item by item."""
    return records_fast.parse(stream, _from_items)


def _from_items(items: Iterable[Any]) -> Iterator[Record]:
    for item in items:
        yield _item_record(item)


def _item_record(item: Any) -> Record:
    """One decoded item (a dict as JSON gave it, now ours) as a record."""
    try:
        # Take the mapped fields out of the item so that what is left is the
        # record's data, without a copy.
        pop = item.pop
        lat_e7 = pop("latitudeE7", None)
        lng_e7 = pop("longitudeE7", None)
        stamp = pop("timestamp", None)
        stamp_ms = pop("timestampMs", None)
        accuracy = pop("accuracy", None)
        altitude = pop("altitude", None)
        velocity = pop("velocity", None)
        heading = pop("heading", None)
        source = pop("source", None)
    except (TypeError, AttributeError):
        return BadRecord(reason="location is not a JSON object", excerpt=excerpt_of(item))
    try:
        if type(lat_e7) is int and type(lng_e7) is int:
            # Same value e7_to_degrees gives (int / 1e7 is already the nearest
            # double to the 7-digit decimal), without two calls per point.
            latitude = lat_e7 / 1e7
            longitude = lng_e7 / 1e7
            if not (-_LAT_E7 <= lat_e7 <= _LAT_E7 and -_LNG_E7 <= lng_e7 <= _LNG_E7):
                # An overflowed E7 (see e7_to_degrees) or a point off the globe.
                latitude, longitude = check_coordinates(
                    e7_to_degrees(lat_e7), e7_to_degrees(lng_e7)
                )
        elif lat_e7 is None or lng_e7 is None:
            raise KeyError("latitudeE7" if lat_e7 is None else "longitudeE7")
        else:
            latitude, longitude = check_coordinates(e7_to_degrees(lat_e7), e7_to_degrees(lng_e7))

        if stamp is not None:
            recorded_at = iso_time(stamp)
        elif stamp_ms is not None:
            recorded_at = millisecond_time(stamp_ms)
        else:
            raise KeyError("timestamp")

        # Anything but a number here would break the writer's batch.
        if not (
            (accuracy is None or type(accuracy) is int or type(accuracy) is float)
            and (altitude is None or type(altitude) is int or type(altitude) is float)
            and (velocity is None or type(velocity) is int or type(velocity) is float)
            and (heading is None or type(heading) is int or type(heading) is float)
        ):
            raise ValueError("accuracy, altitude, velocity and heading must be numbers")
    except (KeyError, TypeError, ValueError) as exc:
        # Put the fields back so the quarantine shows the item as it was.
        values = (lat_e7, lng_e7, stamp, stamp_ms, accuracy, altitude, velocity, heading, source)
        item.update((k, v) for k, v in zip(_MAPPED, values, strict=True) if v is not None)
        return BadRecord(reason=_reason(exc), excerpt=excerpt_of(item))
    if type(source) is not str:
        if source is not None:
            item["source"] = source  # not a name we can show: keep it in data
        source = ""
    return LocationRecord(
        recorded_at,
        latitude,
        longitude,
        accuracy,
        altitude,
        velocity,
        heading,
        source,
        item or None,
    )


def iso_time(stamp: Any) -> datetime:
    """``timestamp``: fromisoformat (C, 3.11+) reads Takeout's "…T18:47:02.597Z" without
    parse_iso's regex; parse_iso still words the error for the rest. Naive means UTC."""
    try:
        recorded_at = _fromisoformat(stamp)
    except (TypeError, ValueError):
        recorded_at = parse_iso(stamp)
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    return recorded_at


def millisecond_time(stamp_ms: Any) -> datetime:
    """``timestampMs``: twice as fast as from_epoch_ms and as exact (milliseconds over
    1000 stay within a quarter microsecond, which is rounded away)."""
    try:
        return _fromtimestamp(int(stamp_ms) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return from_epoch_ms(stamp_ms)


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"location without {exc.args[0]}"
    return f"unreadable location: {exc}"


PARSERS: list[Parser] = [
    Parser(product="location.records", matches=matches, parse=parse, sniff=sniff),
]
