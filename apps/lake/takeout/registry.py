"""The one registry of Takeout product parsers.

Adding a product: write its module beside this one exporting ``PARSERS`` and
add the module to ``_MODULES``. Order matters only where two parsers could
claim the same path: the more specific module comes first.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import PurePosixPath

from . import (
    calendar,
    chrome,
    contacts,
    discord,
    gmail,
    keep,
    maps,
    my_activity,  # after youtube: "My Activity/YouTube" is My Activity, youtube/ owns its own folder
    photos,
    play,
    spotify,
    tracks_csv,
    tracks_gpx,
    tracks_json,
    tracks_kml,
    youtube,
)
from .fit import activity as fit_activity
from .fit import all_data as fit_all_data
from .fit import tcx as fit_tcx
from .location import device as location_device
from .location import meta as location_meta
from .location import records as location_records
from .location import semantic as location_semantic
from .records import Parser

_MODULES = (
    location_records,
    location_semantic,
    location_device,
    location_meta,
    youtube,
    my_activity,
    chrome,
    play,
    fit_all_data,
    fit_tcx,
    fit_activity,
    photos,
    keep,
    calendar,
    contacts,
    gmail,
    maps,
    # Other services' own exports, known by their names and first keys.
    spotify,
    discord,
    # Other apps' track files, known by content: after every Takeout sniffer.
    tracks_gpx,
    tracks_kml,
    tracks_json,
    tracks_csv,
)

PARSERS: tuple[Parser, ...] = tuple(parser for module in _MODULES for parser in module.PARSERS)

# How much of a file the content sniffers get to see.
SNIFF_BYTES = 8192


def parser_for(path: PurePosixPath, head: bytes = b"") -> Parser | None:
    """The parser for an archive member or lone file, by path first, then by content."""
    for parser in PARSERS:
        if parser.matches(path):
            return parser
    if head:
        for parser in PARSERS:
            if parser.sniff is not None and parser.sniff(head):
                return parser
    return None


# Members of other services' exports that are recognised and left out on purpose.
_SKIP_REASONS = (discord.skip_reason,)


def skip_reason(path: PurePosixPath) -> str | None:
    """Why a member no parser reads is skipped, when it is one skipped on purpose."""
    for reason_of in _SKIP_REASONS:
        reason = reason_of(path)
        if reason:
            return reason
    return None


def json_twin_read_instead(
    path: PurePosixPath, parser: Parser, paths: Container[PurePosixPath]
) -> PurePosixPath | None:
    """The JSON file read instead of this HTML one, if the part has it.

    Takeout writes My Activity and YouTube history as JSON or HTML, as the user
    chose; an archive with both holds the same items twice, and the JSON has
    exact times where the HTML has seconds and ambiguous time zones.
    """
    if path.suffix.casefold() not in (".html", ".htm"):
        return None
    twin = path.with_suffix(".json")
    return twin if twin in paths and parser_for(twin) is parser else None


def parser_named(product: str) -> Parser:
    """The parser recorded for an import entry (used when an import resumes)."""
    for parser in PARSERS:
        if parser.product == product:
            return parser
    raise KeyError(product)
