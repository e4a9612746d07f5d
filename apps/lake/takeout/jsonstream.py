"""Reading JSON members without loading large ones whole.

Records.json and My Activity files reach gigabytes: parsers walk them with
ijson's C backend. Small per-item files (a Keep note, a Photos sidecar) are
read whole, under a size cap. Both turn every decoding failure into a
MemberError whose message a user can act on.

Where a number must come back as the file wrote it (Fit's measurements:
"0.40129898838885744" is not the shortest text of its double), ``iter_array``
and ``load_small(exact_numbers=True)`` give numbers with a fraction or an
exponent as ``NumberText``, the token's own text (ijson gives a double or a
Decimal, and a Decimal does not keep "1.0E-4" as written). ``plain`` turns
them back into doubles where a value goes on as JSON (an event's ``data``).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from .records import MemberError, peekable

_BOM = b"\xef\xbb\xbf"

# Per-item files larger than this are not what Takeout writes: refuse them
# instead of reading an unbounded member into memory.
SMALL_FILE_LIMIT = 32 * 1024 * 1024


def _skip_bom(stream: BinaryIO) -> BinaryIO:
    buffered = peekable(stream)
    if buffered.peek(3)[:3] == _BOM:
        buffered.read(3)
    return buffered


def _decode_error(exc: Exception) -> MemberError:
    message = str(exc)
    if "utf" in message.casefold() or isinstance(exc, UnicodeDecodeError):
        return MemberError(f"not UTF-8 encoded JSON: {message}")
    return MemberError(f"invalid or truncated JSON: {message}")


def iter_items(stream: BinaryIO, prefix: str) -> Iterator[Any]:
    """Yield the JSON values at ``prefix`` (ijson syntax: "locations.item", "item")."""
    try:
        yield from ijson.items(_skip_bom(stream), prefix, use_float=True)
    except ijson.JSONError as exc:
        raise _decode_error(exc) from None
    except UnicodeDecodeError as exc:
        raise _decode_error(exc) from None


def iter_kvitems(stream: BinaryIO, prefix: str) -> Iterator[tuple[str, Any]]:
    """Yield (key, value) pairs of the object at ``prefix`` ("" for the top level)."""
    try:
        yield from ijson.kvitems(_skip_bom(stream), prefix, use_float=True)
    except ijson.JSONError as exc:
        raise _decode_error(exc) from None
    except UnicodeDecodeError as exc:
        raise _decode_error(exc) from None


class NumberText(str):
    """A JSON number with a fraction or an exponent, exactly as the file wrote it;
    ``float(text)`` is its double."""

    __slots__ = ()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# The C scanner calls parse_float with the token's text. NaN and Infinity are not JSON.
_EXACT = json.JSONDecoder(parse_float=NumberText, parse_constant=_refuse_constant)
_SPACE = re.compile(r"[ \t\n\r]*")
_CHUNK = 1 << 20
# No item of an array is this large: past it, a value that does not parse is broken,
# not cut by a chunk's end (and the file is not read whole to find out).
_ITEM_LIMIT = 64 << 20


def plain(value: Any) -> Any:
    """``value`` with every NumberText a double again (for JSON that is stored as such)."""
    if type(value) is NumberText:
        return float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


class _ExactReader:
    """The JSON text of a stream, decoded a chunk at a time, read value by value with
    the C scanner of the json module (a value cut by a chunk's end is read again once
    the next chunk is there)."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._decode = codecs.getincrementaldecoder("utf-8-sig")().decode
        self.text = ""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self._stream.read(_CHUNK)
        self.eof = not chunk
        if self.pos > _CHUNK:  # what was read is dropped, a chunk at a time
            self.text, self.pos = self.text[self.pos :], 0
        self.text += self._decode(chunk, final=self.eof)
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text) or not self.more():
                return self.text[self.pos : self.pos + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = self.text[self.pos : self.pos + 20] or "the end of the file"
            raise MemberError(f"invalid or truncated JSON: expected {char!r}, found {found!r}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _EXACT.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos < _ITEM_LIMIT and self.more():
                    continue
                raise MemberError(f"invalid or truncated JSON: {exc}") from None
            except ValueError as exc:
                raise MemberError(f"invalid JSON: {exc}") from None
            # A value that reaches the end of what was read may go on (a number cut in two).
            if end < len(self.text) or not self.more():
                self.pos = end
                return value


# After an item: the comma and the next item's first character, or the closing bracket.
_NEXT_ITEM = re.compile(r"[ \t\n\r]*(?:,[ \t\n\r]*(?=[^ \t\n\r])|(\]))")


def _array_items(reader: _ExactReader) -> Iterator[Any]:
    """The items of the array whose first item is at ``reader.pos``, up to and past its
    "]". Items inside the chunk read are scanned in a tight loop (the bulk of a
    million-point file); one at a chunk's end goes through ``reader.value``."""
    scan = _EXACT.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__
    next_item = _NEXT_ITEM.match
    while True:
        text, pos = reader.text, reader.pos
        while True:
            try:
                value, end = scan(text, pos)
            except (StopIteration, ValueError):
                break  # cut by the chunk's end, or not JSON: reader.value tells which
            after = next_item(text, end)
            if after is None or after.end() >= len(text):
                break  # the end of the chunk, or not JSON: decided below
            reader.pos = pos = after.end()
            yield value
            if after[1]:  # "]"
                return
        yield reader.value()
        if reader.peek() == "]":
            reader.pos += 1
            return
        reader.expect(",")
        reader.peek()  # the next item's first character, where the tight loop scans from


def iter_array(stream: BinaryIO, key: str) -> Iterator[Any]:
    """Yield the items of the array at ``key`` of the file's top-level object, numbers
    with a fraction or an exponent as NumberText (the file's own text); the other keys
    are read and checked, not kept."""
    reader = _ExactReader(stream)
    try:
        first = reader.peek()
        if first in ("[", '"') or first.isdigit():  # valid JSON, but not an object
            raise MemberError(
                f"the file holds a JSON {'list' if first == '[' else 'value'}, not an object"
            )
        reader.expect("{")
        if reader.peek() == "}":
            reader.pos += 1
        else:
            while True:
                name = reader.value()
                if not isinstance(name, str):
                    raise MemberError("invalid JSON: an object's key is not a string")
                reader.expect(":")
                if name == key and reader.peek() == "[":
                    reader.pos += 1
                    if reader.peek() == "]":
                        reader.pos += 1
                    else:
                        yield from _array_items(reader)
                else:
                    reader.value()
                if reader.peek() == "}":
                    reader.pos += 1
                    break
                reader.expect(",")
        if reader.peek():
            raise MemberError("invalid JSON: more after the top-level object")
    except UnicodeDecodeError as exc:
        raise _decode_error(exc) from None


def load_small(
    stream: BinaryIO, limit: int = SMALL_FILE_LIMIT, *, exact_numbers: bool = False
) -> Any:
    """Parse a small JSON file whole (Keep note, Photos sidecar, Fit session); with
    ``exact_numbers``, numbers with a fraction or an exponent as NumberText."""
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise MemberError(
            f"JSON file larger than {limit // (1024 * 1024)} MB where a small one was expected"
        )
    if raw.startswith(_BOM):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
        return _EXACT.decode(text) if exact_numbers else json.loads(text)
    except UnicodeDecodeError as exc:
        raise _decode_error(exc) from None
    except json.JSONDecodeError as exc:
        raise MemberError(f"invalid JSON: {exc}") from None
    except ValueError as exc:  # NaN or Infinity
        raise MemberError(f"invalid JSON: {exc}") from None
