"""What the track-file parsers (GPX, KML/KMZ, GeoJSON, CSV, OwnTracks .rec) share.

Track files come from other apps, not from Takeout: the registry knows them by
their content (a ``<gpx`` root, a CSV header naming latitude and longitude...),
whatever they are called. A fix with a time becomes a LocationRecord; a line
with no times (a KML LineString, a GPX route) is kept as one undated
``track.path`` event holding its coordinates and the reason it has no times,
so nothing the file held is lost and nothing is placed at a made-up moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from .records import EventRecord, Record

# One undated path event holds at most this many coordinates (an event row is
# JSON; a longer line is split into several events, in order).
PATH_MAX_COORDINATES = 10_000

PATH_KIND = "track.path"
WAYPOINT_KIND = "track.waypoint"


def path_events(
    coordinates: list[list[float]],
    *,
    source: str,
    name: str,
    reason: str,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> Iterator[Record]:
    """A line of [lon, lat(, ele)] without per-point times, as ``track.path`` events."""
    for start in range(0, len(coordinates), PATH_MAX_COORDINATES):
        part = coordinates[start : start + PATH_MAX_COORDINATES]
        first = part[0]
        data: dict[str, Any] = {
            "format": source,
            "coordinates": part,
            "undated_reason": reason,
            **(extra or {}),
        }
        if len(coordinates) > PATH_MAX_COORDINATES:
            data["part"] = start // PATH_MAX_COORDINATES + 1
        yield EventRecord(
            kind=PATH_KIND,
            occurred_at=started_at,
            ended_at=ended_at,
            title=name or f"{source.upper()} path",
            text=reason,
            latitude=first[1],
            longitude=first[0],
            data=data,
        )


def float_or_none(value: str | None) -> float | None:
    """A number from an optional text field; ValueError says which text was not one."""
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
