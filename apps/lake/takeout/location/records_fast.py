"""Records.json's fast path: a chunk of fixes at a time, decoded by msgspec into Structs.

ijson builds a Python dict per item, and that dict was most of the parse time
(README, "Where the time goes per point"). Here the stream is cut at item
boundaries, a quarter MiB of fixes is decoded at once into ``_Fix`` Structs (C, no
dict per fix), and each fix becomes its LocationRecord directly, with the JSON of
its unmapped fields made once for a run of fixes that share them.

The same records either way: what ``_Fix`` does not describe (a key it does not
know, a value of another type, a coordinate off the globe) makes msgspec refuse
the chunk, which is then decoded plainly and read item by item by the generic
reader; a fix without a time goes to that reader alone. A file we cannot cut
(another layout, an item larger than ``_MAX_BUFFER``) and every JSON error hand
the rest of the stream to ijson, which reads it item by item and words the error.

Cutting: the bytes between the first two items, from the line of the first one's
closing brace to the second one's opening brace (``"\\n  }, {"`` in Google's
layout, ``"},\\n    {"`` with one item per line), mark the later boundaries; nested
values are indented deeper and JSON strings hold no raw line break, so they do not
contain them. A cut in the wrong place could not pass unseen anyway: a proper
prefix of a JSON object is not a JSON value, so that chunk fails to decode.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Annotated, Any, BinaryIO

import msgspec
import orjson
from msgspec import UNSET, Meta, UnsetType

from .. import jsonstream
from ..records import LocationRecord, Record

_BOM = b"\xef\xbb\xbf"
# Read and decoded at a time: about 1,500 fixes. Four times this measured a third
# slower per fix in the bench's process (0.97 against 0.63 µs; 64 KiB as fast as this);
# likely causes: the chunk no longer fits the CPU's cache, and each pass of the garbage
# collector (one per 700 new containers) finds more of a chunk's decoded lists alive.
_BLOCK = 256 << 10
# A chunk that finds no boundary in this many bytes goes to ijson (bounded memory).
_MAX_BUFFER = 64 << 20

_HEAD = re.compile(rb'\s*\{\s*"locations"\s*:\s*\[\s*')
_TOKEN = re.compile(rb'"(?:[^"\\]+|\\.)*"|[][{}]')
_NEXT_ITEM = re.compile(rb"\s*,\s*\{")
_LAST_ITEM = re.compile(rb"\s*\]")

_Number = int | float | None


class _Mapped(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The keys that land in LocationRecord's own fields (none of them required but
    the coordinates: a fix without a time goes to the generic reader, which says so)."""

    latitudeE7: Annotated[int, Meta(ge=-900_000_000, le=900_000_000)]
    longitudeE7: Annotated[int, Meta(ge=-1_800_000_000, le=1_800_000_000)]
    timestamp: str | None = None
    timestampMs: str | None = None
    accuracy: _Number = None
    altitude: _Number = None
    velocity: _Number = None
    heading: _Number = None
    source: str | None = None


class _LeanFix(_Mapped, forbid_unknown_fields=True, gc=False):
    """The shape of most fixes before 2019 (and of the benchmark's): tried first, as
    it has two fields to look at per fix where ``_Fix`` has fourteen."""

    deviceTag: int | UnsetType = UNSET
    activity: Any = UNSET


class _Fix(_Mapped, forbid_unknown_fields=True, gc=False):
    # Unmapped keys Takeout writes on most fixes, for ``data``. First those that
    # repeat from fix to fix, typed strictly: equal values are then the same JSON
    # (in Python 1 == 1.0 == True), so a run of fixes can share one ``data``.
    deviceTag: int | UnsetType = UNSET
    platformType: str | UnsetType = UNSET
    formFactor: str | UnsetType = UNSET
    osLevel: int | UnsetType = UNSET
    deviceDesignation: str | UnsetType = UNSET
    batteryCharging: bool | UnsetType = UNSET
    verticalAccuracy: int | UnsetType = UNSET
    # Then those that change with each fix, as JSON gives them.
    activity: Any = UNSET
    activeWifiScan: Any = UNSET
    locationMetadata: Any = UNSET
    serverTimestamp: Any = UNSET
    deviceTimestamp: Any = UNSET
    inferredLocation: Any = UNSET
    placeId: Any = UNSET


_MAPPED: tuple[str, ...] = _Mapped.__struct_fields__


@dataclass(frozen=True)
class _Shape:
    """A Struct for fixes, and how to read the fields it keeps for ``data``."""

    decode: Callable[[bytes], list[Any]]
    extras: tuple[str, ...]  # the repeating ones first
    repeating: int  # how many of ``extras`` repeat (typed strictly: shareable)
    get_extras: Callable[[Any], tuple] = field(init=False)
    none: tuple = field(init=False)  # no extras at all
    no_varying: tuple = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "get_extras", attrgetter(*self.extras))
        object.__setattr__(self, "none", (UNSET,) * len(self.extras))
        object.__setattr__(self, "no_varying", (UNSET,) * (len(self.extras) - self.repeating))


_LEAN = _Shape(msgspec.json.Decoder(list[_LeanFix]).decode, ("deviceTag", "activity"), 1)
_FULL = _Shape(
    msgspec.json.Decoder(list[_Fix]).decode,
    tuple(name for name in _Fix.__struct_fields__ if name not in _MAPPED),
    7,
)
_plain = msgspec.json.Decoder().decode
_fromisoformat = datetime.fromisoformat
_fromtimestamp = datetime.fromtimestamp
_dumps = orjson.dumps
_NON_STR_KEYS = orjson.OPT_NON_STR_KEYS

ItemReader = Callable[[Iterable[Any]], Iterator[Record]]


class _Unreadable(Exception):
    """The chunk is not JSON msgspec reads: ijson takes over from its start."""


class _Rejoined(io.RawIOBase):
    """The bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        chunk = self._rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def parse(stream: BinaryIO, read_items: ItemReader) -> Iterator[Record]:
    """Records of a Records.json ``stream``; ``read_items`` is the generic reader
    (decoded items in, records out) for what the fast path leaves to it."""
    # The fields of ``data`` of the last fix that had no varying ones, and that data:
    # a run of such fixes shares one dict and its JSON.
    shape: _Shape | None = None
    last: tuple = ()
    last_data: dict[str, Any] | None = None
    last_json: bytes | None = None
    for chunk in _chunks(stream, read_items):
        if not isinstance(chunk, tuple):
            yield from chunk
            continue
        if chunk[0] is not shape:
            shape = chunk[0]
            get_extras, names, repeating = shape.get_extras, shape.extras, shape.repeating
            no_varying = shape.no_varying
            last, last_data, last_json = shape.none, None, None
        for fix in chunk[1]:  # once per point: nothing here that is not needed
            stamp = fix.timestamp
            try:
                if stamp is not None:
                    recorded_at = _fromisoformat(stamp)
                    if recorded_at.tzinfo is None:
                        recorded_at = recorded_at.replace(tzinfo=UTC)
                else:
                    recorded_at = _fromtimestamp(int(fix.timestampMs) / 1000, UTC)  # type: ignore[arg-type]
            except (TypeError, ValueError, OverflowError, OSError):
                # No time, or one the generic reader parses (or words the error for).
                yield from read_items((_as_item(fix),))
                continue
            source = fix.source
            if source is None:
                source = ""
            extras = get_extras(fix)
            if extras != last:
                data = _data(names, extras)
                data_json = None if data is None else _dumps(data, option=_NON_STR_KEYS)
                if extras[repeating:] == no_varying:  # repeating fields only: shareable
                    last, last_data, last_json = extras, data, data_json
            else:
                data, data_json = last_data, last_json
            yield LocationRecord(
                recorded_at,
                fix.latitudeE7 / 1e7,
                fix.longitudeE7 / 1e7,
                fix.accuracy,
                fix.altitude,
                fix.velocity,
                fix.heading,
                source,
                data,
                data_json,
            )


def _chunks(
    stream: BinaryIO, read_items: ItemReader
) -> Iterator[tuple[_Shape, list[Any]] | Iterator[Record]]:
    """The stream's fixes a chunk at a time, with their shape; what the generic reader
    reads, as its records."""
    shape = _LEAN  # the last chunk's, tried first
    buffer = stream.read(_BLOCK)
    if buffer.startswith(_BOM):
        buffer = buffer[3:]
    head = _HEAD.match(buffer)
    if head is None:  # another top level (keys before "locations", a short read)
        yield _by_ijson(buffer, stream, read_items, prefix=b"")
        return
    begin = head.end()
    separator: bytes | None = None
    single = False  # the first item is also the last
    while True:
        if separator is None and not single:
            found = _separator(buffer, begin)
            if found is False:
                yield _by_ijson(buffer[begin:], stream, read_items)
                return
            if found is True:
                single = True
            else:
                separator = found
        cut = buffer.rfind(separator, begin) if separator is not None else -1
        if cut >= 0:
            end = cut + separator.index(b"}") + 1  # type: ignore[union-attr]
            try:
                decoded = _decode(buffer[begin:end], shape)
            except _Unreadable:
                yield _by_ijson(buffer[begin:], stream, read_items)
                return
            if len(decoded) == 2:
                shape = decoded[0]  # type: ignore[misc]
            yield _chunk(decoded, read_items)
            begin = cut + len(separator) - 1  # type: ignore[arg-type]
        block = stream.read(_BLOCK)
        if not block:
            break
        if len(buffer) - begin > _MAX_BUFFER:
            yield _by_ijson(buffer[begin:] + block, stream, read_items)
            return
        buffer = buffer[begin:] + block
        begin = 0
    # The last items, then "]" and "}" and nothing else.
    tail = buffer[begin:].rstrip()
    if tail.endswith(b"}"):
        inner = tail[:-1].rstrip()
        if inner.endswith(b"]"):
            try:
                decoded = _decode(inner[:-1], shape)
            except _Unreadable:
                pass
            else:
                yield _chunk(decoded, read_items)
                return
    yield _by_ijson(buffer[begin:], stream, read_items)


def _separator(buffer: bytes, begin: int) -> bytes | bool | None:
    """The boundary between the first two items at ``begin``: its bytes; True when
    the first item is the only one; False for a layout not cut here; None when the
    first item does not end within ``buffer`` (read more)."""
    if buffer[begin : begin + 1] == b"]":
        return True
    if buffer[begin : begin + 1] != b"{":
        return False
    depth = 0
    for token in _TOKEN.finditer(buffer, begin):
        char = token.group()
        if char[0] == 0x22:  # a string: its brackets are text
            continue
        depth += 1 if char in (b"{", b"[") else -1
        if depth:
            continue
        close = token.start()
        if _LAST_ITEM.match(buffer, close + 1):
            return True
        following = _NEXT_ITEM.match(buffer, close + 1)
        if following is None:
            # The block may end between the items: read on unless something else follows.
            return None if not buffer[close + 1 :].strip(b", \t\r\n") else False
        start = close
        while start > begin and buffer[start - 1] in b" \t":
            start -= 1
        # The closing brace's own line, when it has nothing else (an indented layout).
        start = start - 1 if buffer[start - 1 : start] == b"\n" else close
        return buffer[start : following.end()]
    return None


def _decode(chunk: bytes, first: _Shape) -> tuple[_Shape, list[Any]] | tuple[list[Any]]:
    """(shape, fixes) of the chunk, ``first`` shape tried first; or, in a 1-tuple, its
    items as plain JSON for the generic reader."""
    text = b"[" + chunk + b"]"
    for shape in (first, _FULL if first is _LEAN else _LEAN):
        try:
            return shape, shape.decode(text)
        except msgspec.ValidationError:  # msgspec stops at the first field it does not know
            continue
        except (msgspec.DecodeError, UnicodeDecodeError):
            raise _Unreadable from None
    try:
        return (_plain(text),)
    except (msgspec.MsgspecError, UnicodeDecodeError):  # a number beyond 64 bits: ijson reads it
        raise _Unreadable from None


def _chunk(
    decoded: tuple[_Shape, list[Any]] | tuple[list[Any]], read_items: ItemReader
) -> tuple[_Shape, list[Any]] | Iterator[Record]:
    return read_items(decoded[0]) if len(decoded) == 1 else decoded  # type: ignore[return-value,arg-type]


def _data(names: tuple[str, ...], extras: tuple) -> dict[str, Any] | None:
    data = {name: value for name, value in zip(names, extras, strict=True) if value is not UNSET}
    return data or None


def _as_item(fix: _Fix) -> dict[str, Any]:
    """The fix as the generic reader's dict (the keys it had)."""
    return {
        name: value
        for name in fix.__struct_fields__
        if (value := getattr(fix, name)) is not UNSET and (value is not None or name not in _MAPPED)
    }


def _by_ijson(
    head: bytes, rest: BinaryIO, read_items: ItemReader, prefix: bytes = b'{"locations":['
) -> Iterator[Record]:
    """The rest item by item: ``head`` (from an item's start, after ``prefix``) and ``rest``."""
    stream = io.BufferedReader(_Rejoined(prefix + head, rest), buffer_size=1 << 16)
    yield from read_items(jsonstream.iter_items(stream, "locations.item"))
