"""Google Photos: the JSON sidecars beside each photo, and each album's metadata.

``Takeout/Google Photos/<album>/<name>.supplemental-metadata.json`` describes
``<name>`` (older archives: ``<name>.json``). Takeout cuts file names at 51
characters, so the suffix may end anywhere (".supplemental-metad.json",
".supp.json", "..json"), and numbers duplicates differently for the two:
``img(1).jpg`` is described by ``img.jpg(1).json``. The media file is only
referenced (``data["media_path"]``), never read or copied.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from . import jsonstream
from .fields import check_coordinates, from_epoch_s
from .paths import folder_name, head_text, product_folder_index
from .records import BadRecord, EventRecord, Parser, Record, excerpt_of

PHOTOS_FOLDERS = frozenset({"google photos", "google fotos", "google foto"})
# The album's own file, by language (en, de, fr, es, it, sk/cs).
ALBUM_METADATA = frozenset(
    {
        "metadata.json",
        "metadaten.json",
        "métadonnées.json",
        "metadatos.json",
        "metadati.json",
        "metadáta.json",
    }
)
# JSON files in the Photos folder that describe no photo.
_NOT_SIDECARS = frozenset(
    {
        "print-subscriptions.json",
        "shared_album_comments.json",
        "user-generated-memory-titles.json",
        "commentaires_albums_partagés.json",
    }
)
# The folders Takeout files every photo in by year ("Photos from 2024"): not albums.
_YEAR_FOLDER = re.compile(
    r"(?:photos from|fotos von|photos de|fotos de|foto del|foto dal|foto's uit|foto's van|fotos do) \d{4}"
)
_SUPPLEMENTAL = "supplemental-metadata"
# Takeout's limit for a sidecar's whole name; a name this long was cut.
_NAME_LIMIT = 51
_NUMBER = re.compile(r"(.*?)(\(\d+\))")


def in_photos(path: PurePosixPath) -> bool:
    return product_folder_index(path, PHOTOS_FOLDERS) is not None


def matches_sidecar(path: PurePosixPath) -> bool:
    name = folder_name(path.name)
    if not name.endswith(".json") or name in ALBUM_METADATA or name in _NOT_SIDECARS:
        return False
    # The full suffix says "sidecar" anywhere; a shorter one only in the Photos folder.
    return in_photos(path) or f".{_SUPPLEMENTAL}" in name


def matches_album(path: PurePosixPath) -> bool:
    return folder_name(path.name) in ALBUM_METADATA and in_photos(path)


def sniff_sidecar(head: bytes) -> bool:
    text = head_text(head)
    if not text.startswith("{"):
        return False
    return '"photoTakenTime"' in text or (
        '"creationTime"' in text
        and '"title"' in text
        and ('"imageViews"' in text or '"geoData"' in text)
    )


def parse_sidecar(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    yield sidecar_record(jsonstream.load_small(stream), path)


def parse_album(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    yield album_record(jsonstream.load_small(stream), path)


def sidecar_record(sidecar: Any, path: PurePosixPath) -> Record:
    if not isinstance(sidecar, dict):
        return BadRecord(
            "a Photos sidecar is a JSON object; this file holds something else", excerpt_of(sidecar)
        )
    try:
        occurred_at = _taken_at(sidecar)
        latitude, longitude = _position(sidecar, "geoData", "geoDataExif")
    except ValueError as exc:
        return BadRecord(f"photo sidecar: {exc}", excerpt_of(sidecar))
    if occurred_at is None:
        return BadRecord(
            "photo sidecar without photoTakenTime or creationTime", excerpt_of(sidecar)
        )
    media = media_name(path.name)
    data = dict(sidecar)
    data["media_path"] = str(path.parent / media)
    # The album this copy sits in; the same photo met in other albums adds theirs.
    data["albums"] = [] if is_year_folder(path.parent.name) else [path.parent.name]
    if len(path.name) >= _NAME_LIMIT:
        data["media_path_is_prefix"] = True  # the media file's name starts with it
    return EventRecord(
        kind="photos.photo",
        occurred_at=occurred_at,
        title=str(sidecar.get("title") or ""),
        text=str(sidecar.get("description") or ""),
        url=str(sidecar.get("url") or ""),
        latitude=latitude,
        longitude=longitude,
        data=data,
        # The same photo sits in its year folder and in each album; its view
        # count grows with every export.
        copy_fields=("media_path", "media_path_is_prefix", "imageViews", "albums"),
        merge_list="albums",
    )


def is_year_folder(name: str) -> bool:
    return _YEAR_FOLDER.fullmatch(folder_name(name)) is not None


def album_record(metadata: Any, path: PurePosixPath) -> Record:
    # Older archives wrap the album in {"albumData": {...}}.
    album = metadata.get("albumData", metadata) if isinstance(metadata, dict) else metadata
    if not isinstance(album, dict):
        return BadRecord(
            "album metadata is a JSON object; this file holds something else", excerpt_of(metadata)
        )
    try:
        occurred_at = _stamp(album.get("date"))
        latitude, longitude = _position(album, "geoData")
    except ValueError as exc:
        return BadRecord(f"album metadata: {exc}", excerpt_of(metadata))
    data = dict(metadata)
    data["album_folder"] = path.parent.name
    return EventRecord(
        kind="photos.album",
        occurred_at=occurred_at,
        title=str(album.get("title") or path.parent.name),
        text=str(album.get("description") or ""),
        latitude=latitude,
        longitude=longitude,
        data=data,
    )


def media_name(sidecar_name: str) -> str:
    """The name of the media file a sidecar describes, from the sidecar's own name."""
    stem = (
        sidecar_name[: -len(".json")] if sidecar_name.casefold().endswith(".json") else sidecar_name
    )
    stem, number = _split_number(stem)
    head, dot, last = stem.rpartition(".")
    # Any cut of ".supplemental-metadata", down to the bare dot.
    if dot and head and _SUPPLEMENTAL.startswith(last.casefold()):
        stem = head
    if not number:
        stem, number = _split_number(stem)
    if number:
        base, dot, extension = stem.rpartition(".")
        stem = f"{base}{number}.{extension}" if dot and base else f"{stem}{number}"
    return stem


def _split_number(stem: str) -> tuple[str, str]:
    match = _NUMBER.fullmatch(stem)
    return (match[1], match[2]) if match and match[1] else (stem, "")


def _taken_at(sidecar: dict[str, Any]) -> datetime | None:
    # photoTakenTime 0 means "unknown": the upload time is the next best.
    for key in ("photoTakenTime", "creationTime"):
        moment = _stamp(sidecar.get(key))
        if moment is not None:
            return moment
    return None


def _stamp(value: Any) -> datetime | None:
    if not isinstance(value, dict) or value.get("timestamp") in (None, "", "0", 0):
        return None
    return from_epoch_s(value["timestamp"])


def _position(item: dict[str, Any], *keys: str) -> tuple[float | None, float | None]:
    """The first non-zero position among ``keys``; 0,0 is how Photos writes "none"."""
    for key in keys:
        geo = item.get(key)
        if not isinstance(geo, dict):
            continue
        latitude, longitude = geo.get("latitude"), geo.get("longitude")
        if latitude in (None, 0, 0.0) and longitude in (None, 0, 0.0):
            continue
        if latitude is None or longitude is None:
            raise ValueError(f"{key} is not a position: {geo!r}")
        try:
            return check_coordinates(float(latitude), float(longitude))
        except (TypeError, ValueError):
            raise ValueError(f"{key} is not a position: {geo!r}") from None
    return None, None


PARSERS: list[Parser] = [
    Parser(product="photos.album", matches=matches_album, parse=parse_album),
    Parser(
        product="photos.sidecar", matches=matches_sidecar, parse=parse_sidecar, sniff=sniff_sidecar
    ),
]
