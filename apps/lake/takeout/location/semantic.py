"""Semantic Location History: Takeout's monthly ``YYYY/YYYY_MONTH.json`` files.

Each file is ``{"timelineObjects": [...]}``; an object is either a
``placeVisit`` (a stay, with ``childVisits`` for stays inside it, such as a
shop in a mall) or an ``activitySegment`` (a move between two stays).

Confidences are given in percent here; VisitRecord.confidence holds a
fraction (0..1) like the on-device export's ``probability``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from .. import jsonstream
from ..fields import check_coordinates, e7_to_degrees, from_epoch_ms, parse_iso
from ..paths import head_text, lower_parts
from ..records import (
    BadRecord,
    EventRecord,
    Parser,
    Record,
    VisitRecord,
    describe_error,
    excerpt_of,
)
from .records import LOCATION_FOLDERS, folder_base

# Takeout keeps this folder's English name in the exports we have seen (a
# German one has "Standortverlauf/Semantic Location History/"); the localised
# location folder above it is accepted as well.
_SEMANTIC_FOLDERS = frozenset({"semantic location history"})
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTH_FILE = re.compile(rf"(\d{{4}})_({_MONTHS})\.json")
# Inside a known folder, tolerate month names we have not seen spelled.
_ANY_MONTH_FILE = re.compile(r"(\d{4})_[^\W\d_]+\.json")
_SNIFF = re.compile(r'\{\s*"timelineObjects"\s*:')

KIND_ACTIVITY = "location.activity"


def matches(path: PurePosixPath) -> bool:
    name = path.name.casefold()
    if len(path.parts) == 1:
        return _MONTH_FILE.fullmatch(name) is not None
    found = _ANY_MONTH_FILE.fullmatch(name)
    if found is None or path.parent.name != found.group(1):
        return False
    folders = [folder_base(part) for part in lower_parts(path)[:-2]]
    return any(f in _SEMANTIC_FOLDERS or f in LOCATION_FOLDERS for f in folders)


def sniff(head: bytes) -> bool:
    return _SNIFF.match(head_text(head)) is not None


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for item in jsonstream.iter_items(stream, "timelineObjects.item"):
        if not isinstance(item, dict):
            yield BadRecord(reason="timeline object is not a JSON object", excerpt=excerpt_of(item))
        elif "placeVisit" in item:
            yield from _visits(item["placeVisit"])
        elif "activitySegment" in item:
            yield _activity(item["activitySegment"])
        else:
            yield BadRecord(
                reason="timeline object is neither a placeVisit nor an activitySegment",
                excerpt=excerpt_of(item),
            )


def _visits(visit: Any) -> Iterator[Record]:
    try:
        parent = visit_record(visit)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        yield BadRecord(
            reason=f"unreadable placeVisit: {describe_error(exc)}", excerpt=excerpt_of(visit)
        )
        return
    yield parent
    for child in visit.get("childVisits") or ():
        try:
            record = visit_record(child)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            yield BadRecord(
                reason=f"unreadable child visit: {describe_error(exc)}", excerpt=excerpt_of(child)
            )
            continue
        # The stay inside the parent's stay (a shop in a mall): say whose.
        record.data = {**child, "childVisitOf": parent.place_id}
        yield record


def visit_record(visit: dict[str, Any]) -> VisitRecord:
    location = visit.get("location") or {}
    started_at, ended_at = _duration(visit["duration"])
    latitude, longitude = _e7_pair(
        location.get("latitudeE7", visit.get("centerLatE7")),
        location.get("longitudeE7", visit.get("centerLngE7")),
    )
    return VisitRecord(
        started_at=started_at,
        ended_at=ended_at,
        latitude=latitude,
        longitude=longitude,
        place_id=_text(location.get("placeId")),
        name=_text(location.get("name")),
        address=_text(location.get("address")),
        semantic_type=_text(location.get("semanticType")),
        confidence=_fraction(location.get("locationConfidence")),
        data=visit,
    )


def _activity(segment: Any) -> Record:
    try:
        started_at, ended_at = _duration(segment["duration"])
        start = segment.get("startLocation") or {}
        latitude, longitude = _e7_pair(start.get("latitudeE7"), start.get("longitudeE7"))
        return EventRecord(
            kind=KIND_ACTIVITY,
            occurred_at=started_at,
            ended_at=ended_at,
            title=_text(segment.get("activityType")),
            latitude=latitude,
            longitude=longitude,
            data=segment,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return BadRecord(
            reason=f"unreadable activitySegment: {describe_error(exc)}", excerpt=excerpt_of(segment)
        )


def _duration(duration: dict[str, Any]) -> tuple[datetime, datetime | None]:
    started_at = _moment(duration, "startTimestamp")
    if started_at is None:
        raise KeyError("duration.startTimestamp")
    return started_at, _moment(duration, "endTimestamp")


def _moment(duration: dict[str, Any], key: str) -> datetime | None:
    # Files before ~2022 write "startTimestampMs": "1627780944000".
    if duration.get(key) is not None:
        return parse_iso(duration[key])
    if duration.get(key + "Ms") is not None:
        return from_epoch_ms(duration[key + "Ms"])
    return None


def _e7_pair(lat_e7: Any, lng_e7: Any) -> tuple[float | None, float | None]:
    if lat_e7 is None or lng_e7 is None:
        return None, None
    return check_coordinates(e7_to_degrees(lat_e7), e7_to_degrees(lng_e7))


def _fraction(percent: Any) -> float | None:
    if isinstance(percent, int | float) and not isinstance(percent, bool):
        return percent / 100
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


PARSERS: list[Parser] = [
    Parser(product="location.semantic", matches=matches, parse=parse, sniff=sniff),
]
