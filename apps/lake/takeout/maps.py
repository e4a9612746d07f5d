"""Google Maps places: starred places, labelled places and saved lists.

- ``Maps (your places)/Saved Places.json``: a GeoJSON FeatureCollection of
  starred places. Older exports: properties ``Title, Published, Updated,
  Google Maps URL, Location{Address, Business Name, Geo Coordinates}``; newer
  ones ``date, google_maps_url, location{address, name}, Comment``.
- ``Maps/My labeled places/Labeled places.json``: the same shape, for
  "Home", "Work" and the user's own labels.
- ``Saved/<list>.csv``: one list per file, ``Title,Note,URL,Tags,Comment``,
  sometimes after a line of list description; no coordinates, no time.

``geometry.coordinates`` is [longitude, latitude]; [0, 0] means "none".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from . import jsonstream
from .fields import check_coordinates, parse_iso
from .paths import directly_in_product_folder, folder_name, head_text
from .records import BadRecord, EventRecord, MemberError, Parser, Record, excerpt_of

# The file names are localised with the folder: "Maps (Meine Orte)/Gespeicherte
# Orte.json", "Maps (vos adresses)/Adresses enregistrées.json", "Maps (Tus
# sitios)/Sitios guardados.json".
SAVED_PLACES_NAMES = frozenset(
    {
        "saved places.json",
        "gespeicherte orte.json",
        "adresses enregistrées.json",
        "sitios guardados.json",
    }
)
LABELED_PLACES_NAMES = frozenset(
    {"labeled places.json", "adresses avec libellé.json", "sitios etiquetados.json"}
)
SAVED_FOLDERS = frozenset({"saved", "gespeichert", "kaydedilenler"})
_SNIFF_SAVED = re.compile(r'\{\s*"type"\s*:\s*"FeatureCollection"')
_SAVED_MARKERS = ('"Google Maps URL"', '"google_maps_url"')
# A list description comes before the header; it is a line or two at most.
_HEADER_SEARCH_ROWS = 5


def matches_saved_places(path: PurePosixPath) -> bool:
    return folder_name(path.name) in SAVED_PLACES_NAMES


def matches_labeled_places(path: PurePosixPath) -> bool:
    return folder_name(path.name) in LABELED_PLACES_NAMES


def matches_saved_list(path: PurePosixPath) -> bool:
    return folder_name(path.name).endswith(".csv") and directly_in_product_folder(
        path, SAVED_FOLDERS
    )


def sniff_saved_places(head: bytes) -> bool:
    text = head_text(head)
    return _SNIFF_SAVED.match(text) is not None and any(marker in text for marker in _SAVED_MARKERS)


def sniff_saved_list(head: bytes) -> bool:
    return head_text(head).casefold().startswith("title,note,url")


def parse_saved_places(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for feature in jsonstream.iter_items(stream, "features.item"):
        yield place_record("maps.saved_place", feature)


def parse_labeled_places(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for feature in jsonstream.iter_items(stream, "features.item"):
        yield place_record("maps.labeled_place", feature)


def place_record(kind: str, feature: Any) -> Record:
    if not isinstance(feature, dict):
        return BadRecord("place is not a GeoJSON feature object", excerpt_of(feature))
    properties = feature.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    location = properties.get("location") or properties.get("Location")
    location = location if isinstance(location, dict) else {}
    try:
        latitude, longitude = _position(feature, location)
        occurred_at = _saved_at(properties) if kind == "maps.saved_place" else None
    except ValueError as exc:
        return BadRecord(f"place: {exc}", excerpt_of(feature))
    address = _first_text(location, "address", "Address") or _first_text(properties, "address")
    note = _first_text(properties, "Comment", "comment", "description")
    return EventRecord(
        kind=kind,
        occurred_at=occurred_at,
        title=_first_text(properties, "Title", "name")
        or _first_text(location, "name", "Business Name")
        or address,
        text="\n".join(part for part in (address, note) if part),
        url=_first_text(properties, "google_maps_url", "Google Maps URL"),
        latitude=latitude,
        longitude=longitude,
        data=feature,
    )


def _position(
    feature: dict[str, Any], location: dict[str, Any]
) -> tuple[float | None, float | None]:
    geometry = feature.get("geometry")
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if isinstance(coordinates, list) and len(coordinates) >= 2:
        longitude, latitude = coordinates[0], coordinates[1]
    else:
        geo = location.get("Geo Coordinates")
        if not isinstance(geo, dict):
            return None, None
        latitude, longitude = geo.get("Latitude"), geo.get("Longitude")
    try:
        latitude, longitude = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise ValueError(f"coordinates are not numbers: {latitude!r}, {longitude!r}") from None
    if latitude == 0 and longitude == 0:
        return None, None
    return check_coordinates(latitude, longitude)


def _saved_at(properties: dict[str, Any]) -> datetime | None:
    value = properties.get("date") or properties.get("Published")
    return parse_iso(value) if value else None


def _first_text(mapping: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def parse_saved_list(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    list_name = path.stem
    try:
        header, description = _find_header(reader)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # ",,,," stands for the list itself, not an item
            yield _list_item(list_name, description, header, row, reader.line_num)
    except UnicodeDecodeError as exc:
        raise MemberError(f"not UTF-8 encoded CSV: {exc}") from None
    except csv.Error as exc:
        raise MemberError(f"unreadable CSV at line {reader.line_num}: {exc}") from None


def _find_header(reader: Any) -> tuple[list[str], str]:
    """The header row, and the list description written above it if any."""
    before: list[list[str]] = []
    for row in reader:
        if any(cell.strip().casefold() == "url" for cell in row):
            description = "\n".join(",".join(r) for r in before if any(c.strip() for c in r))
            return row, description
        before.append(row)
        if len(before) >= _HEADER_SEARCH_ROWS:
            break
    raise MemberError("not a saved list: no header row with Title, Note and URL columns")


def _list_item(
    list_name: str, description: str, header: list[str], row: list[str], line_no: int
) -> Record:
    values: dict[str, Any] = dict(zip(header, row, strict=False))
    if len(row) > len(header):
        values["_extra"] = row[len(header) :]
    values["list"] = list_name
    if description:
        values["list_description"] = description
    by_name = {key.strip().casefold(): value for key, value in zip(header, row, strict=False)}
    title = by_name.get("title") or by_name.get("titel") or (row[0] if row else "")
    if not title.strip() and not (by_name.get("url") or "").strip():
        return BadRecord(
            f"line {line_no}: saved item with neither title nor URL", excerpt_of(values)
        )
    return EventRecord(
        kind="maps.saved_list_item",
        occurred_at=None,
        title=title.strip(),
        text=(by_name.get("note") or "").strip(),
        url=(by_name.get("url") or "").strip(),
        data=values,
    )


PARSERS: list[Parser] = [
    Parser(
        product="maps.saved_places",
        matches=matches_saved_places,
        parse=parse_saved_places,
        sniff=sniff_saved_places,
    ),
    Parser(
        product="maps.labeled_places", matches=matches_labeled_places, parse=parse_labeled_places
    ),
    Parser(
        product="maps.saved_lists",
        matches=matches_saved_list,
        parse=parse_saved_list,
        sniff=sniff_saved_list,
    ),
]
