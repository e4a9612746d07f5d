"""KML and KMZ files (Google Earth, My Maps, many trackers).

- ``gx:Track`` (also inside ``gx:MultiTrack``): paired ``<when>`` and
  ``<gx:coord>`` become LocationPoints, streamed pair by pair.
- A Placemark with a Point and a ``TimeStamp`` is a fix; with a ``TimeSpan``
  it is a stay (a visit, as Google's old Timeline KML wrote them).
- A LineString has no per-point times: it is kept as an undated path with
  the reason (placed at its TimeSpan's begin when the Placemark has one).
- A Point without any time is a ``track.waypoint`` event without a time.

A KMZ is a zip holding a ``doc.kml``: given alone it is opened as an archive
and its KML member read by this parser; inside another archive it arrives as
one member and is opened here.
"""

from __future__ import annotations

import shutil
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections import deque
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from .fields import check_coordinates, parse_iso
from .paths import folder_name, head_text
from .records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MemberError,
    Parser,
    Record,
    VisitRecord,
    excerpt_of,
)
from .tracks import WAYPOINT_KIND, path_events

SOURCE = "kml"
# A KMZ's KML members together may hold at most this much (an archive bomb otherwise).
KMZ_MAX_BYTES = 2 * 1024**3


def sniff(head: bytes) -> bool:
    text = head_text(head)[:4096]
    return text.startswith("<") and "<kml" in text


def matches_kmz(path: PurePosixPath) -> bool:
    return folder_name(path.name).endswith(".kmz")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _coordinate(text: str) -> list[float]:
    """ "lon,lat[,alt]" (KML) or "lon lat [alt]" (gx:coord) to [lon, lat(, alt)], checked."""
    parts = text.replace(",", " ").split()
    if len(parts) < 2:
        raise ValueError(f"not a coordinate: {text!r}")
    try:
        values = [float(part) for part in parts[:3]]
    except ValueError:
        raise ValueError(f"not a coordinate: {text!r}") from None
    values[1], values[0] = check_coordinates(values[1], values[0])
    return values


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    parents: list[ET.Element] = []
    whens: deque[str] = deque()
    coords: deque[str] = deque()
    placemark_name = ""
    in_track = 0
    try:
        for event, element in ET.iterparse(stream, events=("start", "end")):
            name = _local(element.tag)
            if event == "start":
                if name == "Placemark":
                    placemark_name = ""
                elif name == "Track":
                    in_track += 1
                    whens.clear()
                    coords.clear()
                parents.append(element)
                continue
            parents.pop()
            parent = parents[-1] if parents else None
            parent_name = _local(parent.tag) if parent is not None else ""
            if name == "name" and parent_name == "Placemark":
                placemark_name = (element.text or "").strip()
            elif in_track and parent_name == "Track" and name in ("when", "coord"):
                (whens if name == "when" else coords).append((element.text or "").strip())
                if parent is not None:
                    parent.remove(element)
                while whens and coords:
                    yield _track_point(whens.popleft(), coords.popleft(), placemark_name)
            elif name == "Track":
                in_track -= 1
                for left in (*whens, *coords):
                    yield BadRecord(
                        "KML gx:Track: a <when> without its <gx:coord> (or the reverse)",
                        excerpt_of(left),
                    )
                whens.clear()
                coords.clear()
                element.clear()
            elif name == "Placemark":
                yield from _placemark(element, placemark_name)
                element.clear()
                if parent is not None:
                    parent.remove(element)
    except ET.ParseError as exc:
        raise MemberError(f"invalid or truncated KML (XML): {exc}") from None


def _track_point(when: str, coord: str, name: str) -> Record:
    try:
        lon_lat = _coordinate(coord)
        return LocationRecord(
            recorded_at=parse_iso(when),
            latitude=lon_lat[1],
            longitude=lon_lat[0],
            altitude_m=lon_lat[2] if len(lon_lat) > 2 else None,
            source=SOURCE,
            data={"name": name} if name else None,
        )
    except ValueError as exc:
        return BadRecord(f"KML gx:Track point: {exc}", excerpt_of({"when": when, "coord": coord}))


def _find_text(element: ET.Element, *names: str) -> str | None:
    node: ET.Element | None = element
    for wanted in names:
        node = (
            next((c for c in node if _local(c.tag) == wanted), None) if node is not None else None
        )
    return node.text.strip() if node is not None and node.text else None


def _placemark(element: ET.Element, name: str) -> Iterator[Record]:
    stamp = _find_text(element, "TimeStamp", "when")
    begin = _find_text(element, "TimeSpan", "begin")
    end = _find_text(element, "TimeSpan", "end")
    description = _find_text(element, "description") or ""
    address = _find_text(element, "address") or ""
    raw = {"name": name, "when": stamp, "begin": begin, "end": end}
    try:
        first = stamp or begin
        started: datetime | None = parse_iso(first) if first else None
        ended = parse_iso(end) if end else None
    except ValueError as exc:
        yield BadRecord(f"KML Placemark: {exc}", excerpt_of(raw))
        return
    for geometry in element.iter():
        kind = _local(geometry.tag)
        if kind not in ("Point", "LineString", "LinearRing"):
            continue
        text = _find_text(geometry, "coordinates") or ""
        try:
            coordinates = [_coordinate(item) for item in text.split()]
        except ValueError as exc:
            yield BadRecord(f"KML {kind}: {exc}", excerpt_of({**raw, "coordinates": text}))
            continue
        if not coordinates:
            yield BadRecord(f"KML {kind} without coordinates", excerpt_of(raw))
        elif kind == "Point":
            yield _point(coordinates[0], name, description, address, stamp, started, ended)
        else:
            reason = (
                "the line's points have no times of their own (only the Placemark's TimeSpan)"
                if started
                else "the line has no times"
            )
            yield from path_events(
                coordinates,
                source=SOURCE,
                name=name,
                reason=reason,
                started_at=started,
                ended_at=ended,
                extra={"description": description} if description else None,
            )


def _point(
    lon_lat: list[float],
    name: str,
    description: str,
    address: str,
    stamp: str | None,
    started: datetime | None,
    ended: datetime | None,
) -> Record:
    longitude, latitude = lon_lat[0], lon_lat[1]
    altitude = lon_lat[2] if len(lon_lat) > 2 else None
    if started is not None and stamp:
        data: dict[str, Any] = {"name": name} if name else {}
        if description:
            data["description"] = description
        return LocationRecord(
            recorded_at=started,
            latitude=latitude,
            longitude=longitude,
            altitude_m=altitude,
            source=SOURCE,
            data=data or None,
        )
    if started is not None:
        return VisitRecord(
            started_at=started,
            ended_at=ended,
            latitude=latitude,
            longitude=longitude,
            name=name,
            address=address,
            data={"format": SOURCE, "description": description} if description else {},
        )
    return EventRecord(
        kind=WAYPOINT_KIND,
        occurred_at=None,
        title=name or "KML placemark",
        text=description,
        latitude=latitude,
        longitude=longitude,
        data={"format": SOURCE, "address": address} if address else {"format": SOURCE},
    )


def parse_kmz(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    """The KML members of a KMZ met inside another archive (zip needs a seekable file)."""
    with tempfile.TemporaryFile() as spooled:
        shutil.copyfileobj(stream, spooled, 1 << 20)
        spooled.seek(0)
        try:
            archive = zipfile.ZipFile(spooled)
        except zipfile.BadZipFile as exc:
            raise MemberError(f"not a readable KMZ (zip): {exc}") from None
        with archive:
            members = [i for i in archive.infolist() if i.filename.casefold().endswith(".kml")]
            if sum(info.file_size for info in members) > KMZ_MAX_BYTES:
                raise MemberError("the KMZ's KML files are larger than 2 GB unpacked")
            if not members:
                raise MemberError("the KMZ holds no .kml file")
            for info in members:
                try:
                    with archive.open(info) as member:
                        yield from parse(member, path / info.filename)  # type: ignore[arg-type]
                except (zipfile.BadZipFile, OSError) as exc:
                    raise MemberError(f"{info.filename} in the KMZ is unreadable: {exc}") from None


PARSERS: list[Parser] = [
    Parser(product="tracks.kmz", matches=matches_kmz, parse=parse_kmz),
    Parser(product="tracks.kml", matches=lambda path: False, parse=parse, sniff=sniff),
]
