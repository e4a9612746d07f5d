"""YouTube's own folder: ``Takeout/YouTube and YouTube Music/`` (older ``YouTube/``).

``history/watch-history`` and ``search-history`` (JSON or HTML) share My
Activity's schema and reader; ``subscriptions/subscriptions.csv``,
``comments/comments.csv`` (a JSON blob of text segments per row) and
``playlists/likes.json`` (YouTube API playlist items) are read here.
``My Activity/YouTube/`` is My Activity's, not ours.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from . import jsonstream
from .fields import parse_iso
from .my_activity import MY_ACTIVITY_FOLDERS, activity_event, read_activities
from .paths import folder_name, head_text
from .records import BadRecord, EventRecord, MemberError, Parser, Record, excerpt_of

# File names (without suffix) per locale, from public parsers' path tables.
_WATCH_NAMES = frozenset(
    {
        "watch-history",
        "wiedergabeverlauf",
        "historial-de-reproducciones",
        "historial de reproducciones",
        "kijkgeschiedenis",
    }
)
_SEARCH_NAMES = frozenset(
    {
        "search-history",
        "suchverlauf",
        "historial-de-búsqueda",
        "historial de búsquedas",
        "zoekgeschiedenis",
        "historique des recherches",
    }
)
_SUBSCRIPTION_NAMES = frozenset({"subscriptions", "abos", "suscripciones", "abonnementen"})
_COMMENT_NAMES = frozenset({"comments", "kommentare", "comentarios", "reacties"})
# Takeout splits big CSVs as "comments(1).csv", "comments (2).csv".
_SPLIT_SUFFIX = re.compile(r"\s*\(\d+\)$")

# English prefixes Takeout puts before the video or query (kept in ``data``).
_WATCHED = "Watched "
_SEARCHED = "Searched for "

_ISO_CELL = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Parts of the comments.csv column names, accents and punctuation removed.
_TIME_HINTS = ("timestamp", "zeitstempel", "horodatage", "marcadetiempo", "tijdstempel")
_TEXT_HINTS = ("text", "tekst")
_VIDEO_HINTS = ("video",)


def _is_youtube_folder(part: str) -> bool:
    name = folder_name(part)
    # "YouTube and YouTube Music", "YouTube und YouTube Music", "YouTube y ...".
    return name == "youtube" or (name.startswith("youtube") and name.endswith("youtube music"))


def _in_youtube(path: PurePosixPath) -> bool:
    folders = path.parts[:-1]
    if any(folder_name(part) in MY_ACTIVITY_FOLDERS for part in folders):
        return False
    return any(_is_youtube_folder(part) for part in folders)


def _stem_and_suffix(path: PurePosixPath) -> tuple[str, str]:
    name = folder_name(path.name)
    stem, _, suffix = name.rpartition(".")
    return _SPLIT_SUFFIX.sub("", stem), suffix


def _history_matcher(names: frozenset[str]) -> Callable[[PurePosixPath], bool]:
    def matches(path: PurePosixPath) -> bool:
        stem, suffix = _stem_and_suffix(path)
        if stem not in names or suffix not in ("json", "html", "htm"):
            return False
        return len(path.parts) == 1 or _in_youtube(path)

    return matches


def _csv_matcher(names: frozenset[str]) -> Callable[[PurePosixPath], bool]:
    def matches(path: PurePosixPath) -> bool:
        stem, suffix = _stem_and_suffix(path)
        return stem in names and suffix == "csv" and _in_youtube(path)

    return matches


def _likes_matches(path: PurePosixPath) -> bool:
    return (
        folder_name(path.name) == "likes.json"
        and len(path.parts) >= 2
        and folder_name(path.parts[-2]) == "playlists"
        and _in_youtube(path)
    )


# --- watch and search history ----------------------------------------------


def parse_watch_history(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    yield from _history(stream, "youtube.watch", _WATCHED)


def parse_search_history(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    yield from _history(stream, "youtube.search", _SEARCHED)


def _history(stream: BinaryIO, kind: str, prefix: str) -> Iterator[Record]:
    for activity in read_activities(stream):
        if isinstance(activity, BadRecord):
            yield activity
            continue
        title = str(activity.item.get("title") or "")
        # A removed video has no link and its title only says so: leave it whole.
        if title.startswith(prefix) and activity.item.get("titleUrl"):
            title = title[len(prefix) :]
        yield activity_event(activity, kind, title)


# --- CSV files ---------------------------------------------------------------


def _csv_rows(stream: BinaryIO) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        for row in csv.reader(text):
            if any(cell.strip() for cell in row):  # Takeout ends files with blank lines
                yield row
    except UnicodeDecodeError as exc:
        raise MemberError(f"not UTF-8 encoded CSV: {exc}") from None
    except csv.Error as exc:
        raise MemberError(f"unreadable CSV: {exc}") from None
    finally:
        text.detach()  # leave the caller's stream open


def _row_data(header: list[str], row: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(zip(header, row, strict=False))
    if len(row) > len(header):
        data["_extra_columns"] = row[len(header) :]
    return data


def _column_key(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.casefold())


def _column(header: list[str], hints: tuple[str, ...]) -> int | None:
    for index, name in enumerate(header):
        key = _column_key(name)
        if any(hint in key for hint in hints):
            return index
    return None


def parse_subscriptions(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    rows = _csv_rows(stream)
    header = next(rows, None)
    if header is None:
        raise MemberError("the subscriptions file is empty")
    # "Channel Id, Channel Url, Channel Title" in this order whatever the language.
    for row in rows:
        data = _row_data(header, row)
        cells = [cell.strip() for cell in row] + ["", "", ""]
        channel_id, channel_url, channel_title = cells[:3]
        if not channel_id and not channel_url:
            yield BadRecord(
                reason="subscription without channel id or url", excerpt=excerpt_of(data)
            )
            continue
        yield EventRecord(
            kind="youtube.subscription",
            occurred_at=None,
            title=channel_title or channel_id,
            url=channel_url or f"https://www.youtube.com/channel/{channel_id}",
            data=data,
        )


def parse_comments(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    rows = _csv_rows(stream)
    header = next(rows, None)
    if header is None:
        raise MemberError("the comments file is empty")
    time_at = _column(header, _TIME_HINTS)
    text_at = _column(header, _TEXT_HINTS)
    video_at = _column(header, _VIDEO_HINTS)
    for row in rows:
        data = _row_data(header, row)
        stamp = _cell(row, time_at) or _first(row, lambda cell: _ISO_CELL.match(cell))
        if not stamp:
            yield BadRecord(reason="comment without a creation time", excerpt=excerpt_of(data))
            continue
        try:
            occurred_at = parse_iso(stamp)
        except ValueError as exc:
            yield BadRecord(reason=f"comment time: {exc}", excerpt=excerpt_of(data))
            continue
        raw = _cell(row, text_at) or _first(row, lambda cell: cell.startswith("{"))
        text = comment_text(raw)
        video = _cell(row, video_at)
        yield EventRecord(
            kind="youtube.comment",
            occurred_at=occurred_at,
            title=text if len(text) <= 100 else text[:99] + "…",
            text=text,
            url=f"https://www.youtube.com/watch?v={video}" if video else "",
            data=data,
        )


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _first(row: list[str], test: Callable[[str], object]) -> str:
    return next((cell.strip() for cell in row if test(cell.strip())), "")


def comment_text(raw: str) -> str:
    """The text of a comment cell: ``{"takeoutSegments": [...]}`` (until 2024),
    comma-separated ``{"text": ...}`` segments (since), or plain text (older)."""
    if not raw.startswith("{"):
        return raw
    try:
        # strict=False: the CSV leaves real newlines inside the JSON strings.
        segments = json.loads(f"[{raw}]", strict=False)
    except ValueError:
        return raw
    if len(segments) == 1 and isinstance(segments[0], dict) and "takeoutSegments" in segments[0]:
        segments = segments[0]["takeoutSegments"]
    if not isinstance(segments, list):
        return raw
    parts = []
    for segment in segments:
        if not isinstance(segment, dict):
            continue
        link = segment.get("link")
        fallback = link.get("linkUrl", "") if isinstance(link, dict) else ""
        parts.append(str(segment.get("text") or fallback))
    return "".join(parts)


# --- likes -------------------------------------------------------------------


def parse_likes(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for item in jsonstream.iter_items(stream, "item"):
        try:
            yield _like(item)
        except KeyError as exc:
            yield BadRecord(reason=f"liked video without {exc.args[0]}", excerpt=excerpt_of(item))
        except ValueError as exc:
            yield BadRecord(reason=f"liked video: {exc}", excerpt=excerpt_of(item))
        except (AttributeError, TypeError):
            yield BadRecord(reason="liked video is not a playlist item", excerpt=excerpt_of(item))


def _like(item: dict[str, Any]) -> EventRecord:
    snippet = item["snippet"]
    video = (item.get("contentDetails") or {}).get("videoId") or (
        snippet.get("resourceId") or {}
    ).get("videoId")
    return EventRecord(
        kind="youtube.like",
        occurred_at=parse_iso(snippet["publishedAt"]),  # when it was added to the list
        title=str(snippet.get("title") or ""),
        text=str(snippet.get("channelTitle") or ""),
        url=f"https://www.youtube.com/watch?v={video}" if video else "",
        data=item,
    )


# --- sniffing lone files -------------------------------------------------------


def _sniff_subscriptions(head: bytes) -> bool:
    first_line = head_text(head).split("\n", 1)[0].strip().casefold()
    return first_line == "channel id,channel url,channel title"


def _sniff_comments(head: bytes) -> bool:
    first_line = head_text(head).split("\n", 1)[0].casefold()
    return "comment id" in first_line and "comment create timestamp" in first_line


def _sniff_likes(head: bytes) -> bool:
    text = head_text(head)
    return text.startswith("[") and '"youtube#playlistItem"' in text


PARSERS: list[Parser] = [
    Parser("youtube.watch_history", _history_matcher(_WATCH_NAMES), parse_watch_history),
    Parser("youtube.search_history", _history_matcher(_SEARCH_NAMES), parse_search_history),
    Parser(
        "youtube.subscriptions",
        _csv_matcher(_SUBSCRIPTION_NAMES),
        parse_subscriptions,
        _sniff_subscriptions,
    ),
    Parser("youtube.comments", _csv_matcher(_COMMENT_NAMES), parse_comments, _sniff_comments),
    Parser("youtube.likes", _likes_matches, parse_likes, _sniff_likes),
]
