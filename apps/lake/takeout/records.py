"""The records a Takeout parser yields, and the parser's own description.

Parsers keep the original fields of each item in ``data`` so nothing the
export held is lost, even when Datapunk does not (yet) understand it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

import msgspec


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a streamed record came from; stored with it, never part of its identity."""

    source: str  # who produced it: "twitch", or the name an ingest client gives itself
    connector: str  # how it reached us: "twitch.eventsub", "ingest.api", "graph.webhook"
    received_at: datetime  # timezone-aware; when Datapunk received it


@dataclass(slots=True)
class EventRecord:
    """Something that happened at a moment: a watch, a visit, a mail, a note."""

    kind: str  # "<product>.<action>", e.g. "youtube.watch", "chrome.visit"
    # Timezone-aware; the writer converts to UTC. None for items that have no
    # time of their own (a contact, a subscription): they are stored at
    # normalize.UNDATED.
    occurred_at: datetime | None
    title: str = ""
    text: str = ""
    url: str = ""
    ended_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # Keys of ``data`` (dotted for nested ones: "install.lastUpdateTime") that
    # describe this copy of the item, not the item: where the export put it, a
    # view counter, the export's own time stamp. Stored (as first seen) but left
    # out of the item's identity, so the same item in a later export is one row.
    copy_fields: tuple[str, ...] = ()
    # Set by streams (connectors, webhooks, ingest); Takeout records leave it
    # None (their import and archive member say where they came from).
    provenance: Provenance | None = None
    # "html" or "json" for a history item (My Activity, YouTube) that Takeout
    # writes in either format: the same item read from the other format in
    # another import is matched to the second (HTML shows no fractions) and
    # is one row, with the JSON's exact time and fields (see writer.py).
    # "spotify_play" for a Spotify play (API, extended history, account data):
    # matched across the three with a tolerance (writer.py, _SPOTIFY_*).
    history_format: str = ""
    # What makes the item itself, when its title, link and fields may change
    # between exports (a Keep note edited): replaces them in the identity.
    identity: str = ""
    # Key of ``data`` holding a list that grows when the same item comes again
    # (the albums a photo is in): the lists are united, the row stays one.
    merge_list: str = ""
    # Key of ``data`` holding the item's version, a number (a note's last edit):
    # when the same item comes in another version the newest one's fields win
    # and every other version is kept in ``data["history"]``.
    version_key: str = ""


class LocationRecord(msgspec.Struct, gc=False):
    """One raw position fix. The bulk of any archive: keep it small.

    A msgspec Struct, not a dataclass: made by the million, and its C constructor
    takes half the time (it holds no reference cycles, so the GC need not track it).
    """

    recorded_at: datetime
    latitude: float
    longitude: float
    accuracy_m: float | None = None
    altitude_m: float | None = None
    velocity_mps: float | None = None
    heading_deg: float | None = None
    source: str = ""  # GPS / WIFI / CELL / ... as the export names it
    data: dict[str, Any] | None = None  # the fields not mapped above, if any
    # ``data`` as JSON when the parser has it already (Records.json's fast path,
    # one object for a run of fixes with the same data); else the writer makes it.
    data_json: bytes | None = None


@dataclass(slots=True)
class VisitRecord:
    """A stay at a place (semantic location history, on-device timeline)."""

    started_at: datetime
    ended_at: datetime | None
    latitude: float | None
    longitude: float | None
    place_id: str = ""
    name: str = ""
    address: str = ""
    semantic_type: str = ""
    confidence: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class PlaceRecord:
    """A place without a visit time (on-device frequentPlaces): lands in Place."""

    place_id: str
    latitude: float | None
    longitude: float | None
    name: str = ""
    address: str = ""
    semantic_type: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class BadRecord:
    """An item the parser could not read: it goes to quarantine, never dropped."""

    reason: str  # written for the user: what is wrong with this item
    excerpt: str  # the offending input, shortened


@dataclass(slots=True)
class MetricRecord:
    """One health measurement of one stream over [start, end]: lands in lake_healthmetric
    (apps/lake/metrics.py), not as an event. Not frozen: a frozen dataclass sets each
    field through object.__setattr__, and a Fit export makes millions of these."""

    metric: str  # "steps", "distance", "heart_rate", ...
    start: datetime
    end: datetime
    value: float
    unit: str  # "count", "m", "bpm", "kg", "kcal", "min"
    stream: str  # the data stream it was written in (Fit: the All Data file's name)
    # A whole day of the person's own calendar ("Daily activity metrics.csv" says only
    # the date): the writer puts it at [midnight, next midnight) of the user's zone,
    # and ``start``/``end`` are ignored until then.
    local_day: date | None = None
    # The number exactly as the source wrote it ("0.40129898838885744", "4174"), kept
    # beside ``value`` (the nearest double, which sums use) because a double's shortest
    # text is not always the source's: the API and the export give this text back. None
    # for a value Datapunk computed (a sleep segment's minutes).
    text: str | None = None
    # Wall-clock times of the person's own zone ("00:15:00.000" in a per-day CSV without
    # an offset): ``start``/``end`` are naive and the writer reads them in the user's zone.
    local_time: bool = False


Record = EventRecord | LocationRecord | VisitRecord | PlaceRecord | MetricRecord | BadRecord


class MemberError(Exception):
    """The whole member cannot be read (invalid JSON, wrong encoding...).

    The message is shown to the user; the member's rows are rolled back.
    """


ParseFunction = Callable[[BinaryIO, PurePosixPath], Iterator[Record]]


def peekable(stream: BinaryIO) -> io.BufferedReader:
    """The parser's stream as a BufferedReader, for peek() and bounded readline()."""
    if isinstance(stream, io.BufferedReader):
        return stream
    # typeshed's BinaryIO declares no readinto(), which BufferedReader needs and
    # every stream a parser is given (member streams, files, BytesIO) has.
    return io.BufferedReader(stream)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Parser:
    """A product parser as the registry sees it.

    ``matches`` decides from the member's path inside the archive (folder and
    file names, localised ones included). ``sniff`` decides from the first
    bytes of a lone file whose name says nothing (a phone's Timeline.json
    renamed by the user); it is optional.
    """

    product: str  # e.g. "location.records", "youtube.watch_history"
    matches: Callable[[PurePosixPath], bool]
    parse: ParseFunction
    sniff: Callable[[bytes], bool] | None = None


def excerpt_of(value: Any, limit: int = 500) -> str:
    """A short printable excerpt of a bad item for the quarantine table."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(exc: Exception) -> str:
    """A quarantine reason for an item whose reading raised ``exc``."""
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]}"
    if isinstance(exc, TypeError | AttributeError):
        return "unexpected structure"
    return str(exc)
