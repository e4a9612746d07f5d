"""Reading the ``BEGIN:…``/``END:…`` blocks of iCalendar and vCard files one at a time.

A calendar or an address book exported by Takeout is one file holding every
event or contact; both formats nest components between ``BEGIN:X`` and
``END:X`` lines. Calendar and contacts parsers take the blocks they want from
here, so a big file never sits in memory whole and one broken block does not
spoil the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from .records import peekable

_BOM = b"\xef\xbb\xbf"
# Longer physical lines are read in pieces of this size (base64 photos are
# folded at 75 characters, so only a broken file gets here).
_READ_LIMIT = 1024 * 1024


@dataclass(slots=True)
class Block:
    """One wanted component, or one line outside every wanted component (``name`` "")."""

    name: str  # upper-case component name, e.g. "VEVENT"; "" for an outside line
    lines: list[bytes] = field(default_factory=list)  # empty when ``too_big``
    line_no: int = 0  # 1-based line of its BEGIN
    too_big: bool = False
    truncated: bool = False  # the file ended before its END line

    def text(self) -> str:
        """The block decoded; UTF-8 as the formats require, Latin-1 when a writer ignored that."""
        raw = b"".join(self.lines)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def iter_blocks(stream: BinaryIO, names: frozenset[str], limit: int) -> Iterator[Block]:
    """Yield each outermost component named in ``names`` and every line outside them.

    A component larger than ``limit`` bytes is yielded with ``too_big`` set and
    no lines, so that the caller can quarantine it without having held it.
    """
    reader = peekable(stream)
    current: Block | None = None
    depth = 0  # nesting inside ``current``
    size = 0
    line_no = 0
    at_line_start = True
    while chunk := reader.readline(_READ_LIMIT):
        starts_line = at_line_start
        at_line_start = chunk.endswith(b"\n")
        if starts_line:
            line_no += 1
            if line_no == 1 and chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
        keyword, name = _begin_or_end(chunk) if starts_line else ("", "")
        if current is None:
            if keyword == "BEGIN" and name in names:
                current, depth, size = Block(name=name, line_no=line_no), 1, len(chunk)
                current.lines.append(chunk)
            else:
                yield Block(name="", lines=[chunk], line_no=line_no)
            continue
        depth += 1 if keyword == "BEGIN" else -1 if keyword == "END" else 0
        size += len(chunk)
        if size > limit and not current.too_big:
            current.too_big = True
            current.lines.clear()
        if not current.too_big:
            current.lines.append(chunk)
        if depth == 0:
            yield current
            current = None
    if current is not None:
        current.truncated = True
        yield current


def _begin_or_end(line: bytes) -> tuple[str, str]:
    """("BEGIN", "VEVENT") for a "BEGIN:VEVENT" line, ("", "") for any other line."""
    # Only a line starting in column 0: a folded continuation starts with a blank.
    head = line[:64].rstrip().upper()
    for keyword in (b"BEGIN:", b"END:"):
        if head.startswith(keyword):
            return keyword[:-1].decode(), head[len(keyword) :].strip().decode("ascii", "replace")
    return "", ""


def unfold(text: str) -> list[str]:
    """Content lines with their folding (CRLF followed by a space or tab) undone."""
    return text.replace("\r\n", "\n").replace("\n ", "").replace("\n\t", "").split("\n")
