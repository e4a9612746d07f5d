"""My Activity: ``Takeout/My Activity/<Product>/MyActivity.json`` or ``.html``.

Every product folder holds the same schema, a top-level array of
``{header, title, titleUrl, subtitles, description, details, locationInfos,
products, time}``, or the HTML page of cards showing the same. YouTube's own
watch and search history use it too, through ``read_activities``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

from . import jsonstream
from .activity_html import iter_cards, parse_html_time
from .fields import parse_iso, parse_latlng
from .paths import folder_name, head_text
from .records import BadRecord, EventRecord, MemberError, Parser, Record, excerpt_of, peekable

# The "My Activity" folder in the languages we have seen (casefolded, NFC).
MY_ACTIVITY_FOLDERS = frozenset(
    {
        "my activity",
        "meine aktivitäten",
        "mon activité",
        "mon activité chez google",
        "mi actividad",
        "mijn activiteit",
    }
)
# Takeout names the file after the folder, with or without the space.
_FILE_NAME = re.compile(
    r"(?:my ?activity|meine ?aktivitäten|mon ?activité|mi ?actividad|mijn ?activiteit)"
    r"\.(?:json|html?)"
)

# Localised product folders, so an account's language does not change the kind.
_PRODUCT_ALIASES = {
    "google suche": "search",
    "suche": "search",
    "búsqueda": "search",
    "recherche": "search",
    "zoeken": "search",
    "bildersuche": "image_search",
    "recherche d_images": "image_search",
    "videosuche": "video_search",
    "búsqueda de vídeos": "video_search",
    "recherche de vidéos": "video_search",
    "video_s zoeken": "video_search",
    "anzeigen": "ads",
    "publicidad": "ads",
    "advertenties": "ads",
    "entdecken": "discover",
    "descubrir": "discover",
    "google actualités": "google_news",
    "google nieuws": "google_news",
    "nachrichten": "news",
    "noticias": "news",
    "nieuws": "news",
}

_SNIFF_JSON = re.compile(r'\[\s*\{\s*"(?:header|title|time|titleUrl|products)"\s*:')
# Class names from the page's own style sheet, always in its first kilobytes.
_SNIFF_HTML = ("content-cell", "header-cell")


@dataclass(slots=True)
class Activity:
    """One activity in the JSON shape, with its time read."""

    item: dict[str, Any]
    occurred_at: datetime
    format: str = "json"  # or "html": the page shows times to the second only


def slug(text: str) -> str:
    return re.sub(r"[\W_]+", "_", folder_name(text)).strip("_")


def matches(path: PurePosixPath) -> bool:
    return _FILE_NAME.fullmatch(folder_name(path.name)) is not None


def sniff(head: bytes) -> bool:
    text = head_text(head)
    if text.startswith("["):
        return _SNIFF_JSON.match(text) is not None
    lowered = text.casefold()
    return lowered.startswith("<") and all(marker in lowered for marker in _SNIFF_HTML)


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    folder_kind = _product_of(path)
    for activity in read_activities(stream):
        if isinstance(activity, BadRecord):
            yield activity
            continue
        item = activity.item
        product = folder_kind or _product_slug(item.get("header")) or "unknown"
        yield activity_event(activity, f"activity.{product}", str(item.get("title") or ""))


def read_activities(stream: BinaryIO) -> Iterator[Activity | BadRecord]:
    """The activities of a JSON or HTML file, told apart by their first byte."""
    buffered = peekable(stream)
    first = buffered.peek(256).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first == b"[":
        yield from _json_activities(buffered)
    elif first == b"<":
        yield from _html_activities(buffered)
    elif not first:
        raise MemberError("the file is empty")
    else:
        raise MemberError("neither a JSON list of activities nor an HTML activity page")


def _json_activities(stream: BinaryIO) -> Iterator[Activity | BadRecord]:
    for item in jsonstream.iter_items(stream, "item"):
        if not isinstance(item, dict):
            yield BadRecord(reason="activity is not a JSON object", excerpt=excerpt_of(item))
            continue
        if "time" not in item:
            yield BadRecord(reason="activity without time", excerpt=excerpt_of(item))
            continue
        try:
            yield Activity(item, parse_iso(item["time"]))
        except ValueError as exc:
            yield BadRecord(reason=f"activity time: {exc}", excerpt=excerpt_of(item))


def _html_activities(stream: BinaryIO) -> Iterator[Activity | BadRecord]:
    for item in iter_cards(stream):
        if "time" not in item:
            yield BadRecord(reason="activity card without any text", excerpt=excerpt_of(item))
            continue
        try:
            # The page's offset is the zone the export was made in, not the place's
            # clock: in UTC, so that no "local time there" is kept for it.
            yield Activity(item, parse_html_time(item["time"]).astimezone(UTC), "html")
        except ValueError as exc:
            yield BadRecord(reason=f"activity time: {exc}", excerpt=excerpt_of(item))


def activity_event(activity: Activity, kind: str, title: str) -> EventRecord:
    """The event of one activity; the original item is kept whole in ``data``."""
    item = activity.item
    latitude, longitude = _location(item)
    return EventRecord(
        kind=kind,
        occurred_at=activity.occurred_at,
        title=title,
        text=_text(item),
        url=str(item.get("titleUrl") or ""),
        latitude=latitude,
        longitude=longitude,
        data=item,
        history_format=activity.format,
    )


def _text(item: dict[str, Any]) -> str:
    description = item.get("description")
    if isinstance(description, str) and description:
        return description
    subtitles = item.get("subtitles")
    if isinstance(subtitles, list):
        names = [str(s.get("name")) for s in subtitles if isinstance(s, dict) and s.get("name")]
        return "\n".join(names)
    return ""


def _location(item: dict[str, Any]) -> tuple[float | None, float | None]:
    """The area a Maps link in ``locationInfos`` centres on, when it gives one."""
    infos = item.get("locationInfos")
    if not isinstance(infos, list):
        return None, None
    for info in infos:
        url = info.get("url") if isinstance(info, dict) else None
        if not isinstance(url, str):
            continue
        query = parse_qs(urlsplit(url).query)
        for key in ("center", "q", "query"):
            for value in query.get(key, []):
                try:
                    return parse_latlng(value)
                except ValueError:
                    continue  # "center=lat,lon" in anonymised exports, a place name...
    return None, None


def _product_of(path: PurePosixPath) -> str:
    """The product from its folder, when the file sits in ``My Activity/<Product>/``."""
    parts = path.parts
    if len(parts) >= 3 and folder_name(parts[-3]) in MY_ACTIVITY_FOLDERS:
        return _product_slug(parts[-2])
    return ""


def _product_slug(name: Any) -> str:
    if not isinstance(name, str):
        return ""
    return _PRODUCT_ALIASES.get(folder_name(name)) or slug(name)


PARSERS: list[Parser] = [
    Parser(product="my_activity", matches=matches, parse=parse, sniff=sniff),
]
