"""Google Play Store: ``Installs.json``, ``Library.json``, ``Purchase History.json``.

Each is a top-level array of one-key wrappers around the app, book or film
(``{"install": {"doc": {title, documentType}, ...}}``), with ISO times.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from . import jsonstream
from .fields import parse_iso
from .paths import head_text, lower_parts
from .records import BadRecord, EventRecord, Parser, Record, excerpt_of

_PLAY_FOLDERS = frozenset({"google play store", "google play"})


@dataclass(frozen=True, slots=True)
class _Shape:
    file_name: str  # casefolded
    wrapper: str  # the one key around each entry
    kind: str
    times: tuple[str, ...]  # tried in order: the first present one is the event time
    noun: str  # for quarantine reasons


_INSTALLS = _Shape(
    "installs.json",
    "install",
    "play.install",
    ("firstInstallationTime", "lastUpdateTime"),
    "install",
)
_LIBRARY = _Shape(
    "library.json", "libraryDoc", "play.library", ("acquisitionTime",), "library entry"
)
_PURCHASES = _Shape(
    "purchase history.json", "purchaseHistory", "play.purchase", ("purchaseTime",), "purchase"
)


def _matcher(shape: _Shape) -> Callable[[PurePosixPath], bool]:
    def matches(path: PurePosixPath) -> bool:
        # Some exports write "Google Play\xa0Store" with a no-break space.
        parts = tuple(part.replace("\xa0", " ") for part in lower_parts(path))
        # The names say little alone ("Library.json"): only in the Play folder.
        return parts[-1] == shape.file_name and any(p in _PLAY_FOLDERS for p in parts[:-1])

    return matches


def _sniffer(shape: _Shape) -> Callable[[bytes], bool]:
    pattern = re.compile(r'\[\s*\{\s*"' + shape.wrapper + r'"\s*:')

    def sniff(head: bytes) -> bool:
        return pattern.match(head_text(head)) is not None

    return sniff


def _parser(shape: _Shape) -> Callable[[BinaryIO, PurePosixPath], Iterator[Record]]:
    def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
        for item in jsonstream.iter_items(stream, "item"):
            try:
                yield play_event(shape, item)
            except ValueError as exc:
                yield BadRecord(reason=f"Play {shape.noun}: {exc}", excerpt=excerpt_of(item))

    return parse


def play_event(shape: _Shape, item: Any) -> EventRecord:
    """One entry; ValueError with the reason when it cannot be read."""
    entry = item.get(shape.wrapper) if isinstance(item, dict) else None
    if not isinstance(entry, dict):
        raise ValueError(f'no "{shape.wrapper}" object')
    stamp = next((entry[key] for key in shape.times if entry.get(key)), None)
    if stamp is None:
        raise ValueError(f"no {' or '.join(shape.times)}")
    doc = entry.get("doc")
    if not isinstance(doc, dict):
        doc = {}
    device = entry.get("deviceAttribute")
    if not isinstance(device, dict):
        device = {}
    return EventRecord(
        kind=shape.kind,
        occurred_at=parse_iso(stamp),
        title=str(doc.get("title") or ""),
        text=str(device.get("deviceDisplayName") or doc.get("documentType") or ""),
        data=item,
        # An app updated between two exports is still the one install.
        copy_fields=(f"{shape.wrapper}.lastUpdateTime",) if shape is _INSTALLS else (),
    )


PARSERS: list[Parser] = [
    Parser(f"play.{name}", _matcher(shape), _parser(shape), _sniffer(shape))
    for name, shape in (("installs", _INSTALLS), ("library", _LIBRARY), ("purchases", _PURCHASES))
]
