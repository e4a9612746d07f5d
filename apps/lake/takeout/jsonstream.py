"""Reading JSON members without loading large ones whole.

Records.json and My Activity files reach gigabytes: parsers walk them with
ijson's C backend. Small per-item files (a Keep note, a Photos sidecar) are
read whole, under a size cap. Both turn every decoding failure into a
MemberError whose message a user can act on.
"""

from __future__ import annotations

import json
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


def load_small(stream: BinaryIO, limit: int = SMALL_FILE_LIMIT) -> Any:
    """Parse a small JSON file whole (Keep note, Photos sidecar, Fit session)."""
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise MemberError(
            f"JSON file larger than {limit // (1024 * 1024)} MB where a small one was expected"
        )
    if raw.startswith(_BOM):
        raw = raw[3:]
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _decode_error(exc) from None
    except json.JSONDecodeError as exc:
        raise MemberError(f"invalid JSON: {exc}") from None
