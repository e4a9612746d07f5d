"""GPX 1.0/1.1 files (any app's export): tracks, segments, waypoints, routes.

Track points with a ``<time>`` become LocationPoints; a segment whose points
have no times at all is kept as an undated path; routes (a plan, not where
one was) are paths too; waypoints are ``track.waypoint`` events. Read with
iterparse, every point dropped from the tree once read: memory stays flat.
Expat refuses entity bombs and ElementTree fetches no external entities.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from .fields import check_coordinates, parse_iso
from .paths import head_text
from .records import BadRecord, EventRecord, LocationRecord, MemberError, Parser, Record, excerpt_of
from .tracks import WAYPOINT_KIND, float_or_none, path_events

SOURCE = "gpx"
_POINTS = frozenset({"trkpt", "rtept", "wpt"})


def sniff(head: bytes) -> bool:
    text = head_text(head)[:4096]
    return text.startswith("<") and "<gpx" in text


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _children(element: ET.Element) -> dict[str, ET.Element]:
    """Direct and extension children by local name (speed and course live in extensions)."""
    found: dict[str, ET.Element] = {}
    for child in element.iter():
        if child is not element:
            found.setdefault(_local(child.tag), child)
    return found


def _text(children: dict[str, ET.Element], name: str) -> str | None:
    node = children.get(name)
    return node.text.strip() if node is not None and node.text else None


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    track_name = route_name = ""
    track_index = segment_index = 0
    undated: list[list[float]] = []  # the current segment's or route's points without times
    dated_in_segment = 0
    parents: list[ET.Element] = []
    try:
        for event, element in ET.iterparse(stream, events=("start", "end")):
            name = _local(element.tag)
            if event == "start":
                if name == "trk":
                    track_index += 1
                    segment_index, track_name = 0, ""
                elif name == "trkseg":
                    segment_index += 1
                    undated, dated_in_segment = [], 0
                elif name == "rte":
                    undated, route_name = [], ""
                parents.append(element)
                continue
            parents.pop()
            parent = parents[-1] if parents else None
            if name == "name" and parent is not None and _local(parent.tag) in ("trk", "rte"):
                if _local(parent.tag) == "trk":
                    track_name = (element.text or "").strip()
                else:
                    route_name = (element.text or "").strip()
            elif name in _POINTS:
                record = _point(element, name, track_name, track_index, segment_index)
                if isinstance(record, list):
                    undated.append(record)
                elif record is not None:
                    if isinstance(record, LocationRecord):
                        dated_in_segment += 1
                    yield record
                element.clear()
                if parent is not None:
                    parent.remove(element)
            elif name == "trkseg":
                if undated and dated_in_segment:
                    for lon_lat in undated:
                        yield BadRecord(
                            "GPX track point without <time> in a segment whose other points have one",
                            excerpt_of({"lon": lon_lat[0], "lat": lon_lat[1]}),
                        )
                elif undated:
                    yield from path_events(
                        undated,
                        source=SOURCE,
                        name=track_name,
                        reason="the track's points have no times",
                        extra={"track": track_index, "segment": segment_index},
                    )
                undated = []
                element.clear()
            elif name == "rte":
                if undated:
                    yield from path_events(
                        undated,
                        source=SOURCE,
                        name=route_name,
                        reason="a route is a planned path, not a record with times",
                        extra={"route": True},
                    )
                undated = []
                element.clear()
            elif name == "trk":
                element.clear()
    except ET.ParseError as exc:
        raise MemberError(f"invalid or truncated GPX (XML): {exc}") from None


def _point(
    element: ET.Element, kind: str, track_name: str, track_index: int, segment_index: int
) -> Record | list[float] | None:
    """A track point as a LocationRecord, a waypoint as an event, an undated point as [lon, lat(, ele)]."""
    children = _children(element)
    when = _text(children, "time")
    raw = {"lat": element.get("lat"), "lon": element.get("lon"), "time": when}
    try:
        latitude, longitude = check_coordinates(
            float(element.get("lat") or "nan"), float(element.get("lon") or "nan")
        )
        if latitude != latitude or longitude != longitude:  # NaN: an attribute was missing
            raise ValueError("lat and lon attributes are required")
        elevation = float_or_none(_text(children, "ele"))
        recorded_at = parse_iso(when) if when else None
        if kind == "wpt":
            data: dict[str, Any] = {"format": SOURCE}
            for field in ("ele", "sym", "type", "cmt"):
                value = _text(children, field)
                if value is not None:
                    data[field] = value
            return EventRecord(
                kind=WAYPOINT_KIND,
                occurred_at=recorded_at,
                title=_text(children, "name") or "GPX waypoint",
                text=_text(children, "desc") or "",
                latitude=latitude,
                longitude=longitude,
                data=data,
            )
        if recorded_at is None or kind == "rtept":
            return [longitude, latitude] + ([elevation] if elevation is not None else [])
        extra: dict[str, Any] = {"track": track_index, "segment": segment_index}
        if track_name:
            extra["name"] = track_name
        for field in ("hdop", "sat", "hr", "cad"):
            value = _text(children, field)
            if value is not None:
                extra[field] = value
        return LocationRecord(
            recorded_at=recorded_at,
            latitude=latitude,
            longitude=longitude,
            accuracy_m=None,
            altitude_m=elevation,
            velocity_mps=float_or_none(_text(children, "speed")),
            heading_deg=float_or_none(_text(children, "course")),
            source=SOURCE,
            data=extra,
        )
    except ValueError as exc:
        return BadRecord(f"GPX {kind}: {exc}", excerpt_of(raw))


PARSERS: list[Parser] = [
    Parser(product="tracks.gpx", matches=lambda path: False, parse=parse, sniff=sniff),
]
