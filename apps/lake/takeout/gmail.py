"""Gmail: ``Takeout/Mail/*.mbox`` (e.g. "All mail Including Spam and Trash.mbox").

The folder is localised ("E-Mail", "Courrier", "Correo"), the extension is
not, so any ``.mbox`` file is a mailbox; a lone file without it is known by
its first line ("From "). These files reach many gigabytes and arrive as
non-seekable zip members, which ``mailbox.mbox`` cannot read (it needs a
path), so messages are split off the byte stream here, one at a time.
"""

from __future__ import annotations

import csv
import email
import email.errors
import email.policy
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any, BinaryIO, cast

from .records import BadRecord, EventRecord, MemberError, Parser, Record, excerpt_of, peekable

# A Gmail message is at most ~35 MB once its 25 MB of attachments are base64.
MESSAGE_LIMIT = 64 * 1024 * 1024
_READ_LIMIT = 1024 * 1024
_FROM_LINE_LIMIT = 64 * 1024  # a "From " line is an address and a date
_BOM = b"\xef\xbb\xbf"
_SNIFF = re.compile(rb"From \S+[ \t][^\r\n]*\r?\n[!-9;-~]+:")
# mboxrd quoting: a body line "From x" is stored as ">From x", ">From" as ">>From".
_QUOTED_FROM = re.compile(rb">+From ")
_HEADERS = (
    "From",
    "To",
    "Cc",
    "Bcc",
    "Reply-To",
    "Date",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "X-GM-THRID",
)
_FROM_LINE_DATE = ("%a %b %d %H:%M:%S %z %Y", "%a %b %d %H:%M:%S %Y")


@dataclass(slots=True)
class RawMessage:
    from_line: bytes
    number: int  # 1-based position in the file
    lines: list[bytes] = field(default_factory=list)  # empty when ``too_big``
    too_big: bool = False


def matches(path: PurePosixPath) -> bool:
    return path.suffix.casefold() == ".mbox"


def sniff(head: bytes) -> bool:
    return _SNIFF.match(head.removeprefix(_BOM)) is not None


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    for raw in iter_messages(stream):
        yield message_record(raw)


def iter_messages(stream: BinaryIO) -> Iterator[RawMessage]:
    """The messages of an mbox, split on its "From " lines, quoting undone."""
    reader = peekable(stream)
    first = _whole_line(reader, reader.readline(_READ_LIMIT).removeprefix(_BOM))
    if not first:
        return  # Takeout writes empty mailboxes for empty labels
    if not first.startswith(b"From "):
        raise MemberError("not an mbox file: it does not start with a 'From ' line")
    current = RawMessage(from_line=first, number=1)
    size = 0
    at_line_start = True
    while chunk := reader.readline(_READ_LIMIT):
        starts_line = at_line_start
        at_line_start = chunk.endswith(b"\n")
        if starts_line and chunk.startswith(b"From "):
            yield _finished(current)
            current = RawMessage(from_line=_whole_line(reader, chunk), number=current.number + 1)
            size = 0
            at_line_start = True
            continue
        size += len(chunk)
        if size > MESSAGE_LIMIT:
            current.too_big = True
            current.lines.clear()
        if current.too_big:
            continue
        if starts_line and _QUOTED_FROM.match(chunk):
            chunk = chunk[1:]
        current.lines.append(chunk)
    yield _finished(current)


def _whole_line(reader: io.BufferedReader, chunk: bytes) -> bytes:
    """A separator line read in pieces, joined (never past a sane length)."""
    while chunk and not chunk.endswith(b"\n") and len(chunk) < _FROM_LINE_LIMIT:
        more = reader.readline(_READ_LIMIT)
        if not more:
            break
        chunk += more
    return chunk


def _finished(raw: RawMessage) -> RawMessage:
    # The blank line before the next "From " belongs to the separator.
    if raw.lines and raw.lines[-1] in (b"\n", b"\r\n"):
        raw.lines.pop()
    return raw


def message_record(raw: RawMessage) -> Record:
    where = f"message {raw.number}"
    from_line = raw.from_line.decode("utf-8", "replace").rstrip("\r\n")
    if raw.too_big:
        return BadRecord(
            f"{where} is larger than {MESSAGE_LIMIT // 2**20} MB", excerpt_of(from_line)
        )
    body = b"".join(raw.lines)
    try:
        # With the default policy the parser builds EmailMessage objects.
        message = cast(EmailMessage, email.message_from_bytes(body, policy=email.policy.default))
        occurred_at = _sent_at(message, from_line)
        if occurred_at is None:
            return BadRecord(f"{where} has no readable date", _excerpt(from_line, body))
        data = _headers(message)
        data["attachments"] = _attachments(message)
        data["mbox_from_line"] = from_line
        return EventRecord(
            kind="gmail.message",
            occurred_at=occurred_at,
            title=header_text(message, "Subject") or "",
            text=body_text(message),
            data=data,
        )
    except (
        ValueError,
        TypeError,
        LookupError,
        IndexError,
        AttributeError,
        email.errors.MessageError,
    ) as exc:
        return BadRecord(f"unreadable {where}: {exc}", _excerpt(from_line, body))


def _sent_at(message: EmailMessage, from_line: str) -> datetime | None:
    """The Date header; Gmail's chats have none, their "From " line has the time."""
    header = message.get("Date")
    moment = getattr(header, "datetime", None)
    if moment is None and header is not None:
        try:
            moment = parsedate_to_datetime(str(header))
        except (TypeError, ValueError):
            moment = None
    if moment is None:
        moment = _from_line_date(from_line)
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # "-0000": the sender did not say
    return moment


def _from_line_date(from_line: str) -> datetime | None:
    # "From 1277085061787347926@xxx Tue Aug 05 08:00:23 +0000 2008"
    parts = from_line.split(None, 2)
    if len(parts) < 3:
        return None
    for pattern in _FROM_LINE_DATE:
        try:
            return datetime.strptime(" ".join(parts[2].split()), pattern)
        except ValueError:
            continue
    return None


def _headers(message: EmailMessage) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _HEADERS:
        value = header_text(message, name)
        if value is not None:
            data[name] = value
    labels = header_text(message, "X-Gmail-Labels")
    if labels is not None:
        data["X-Gmail-Labels"] = split_labels(labels)
    return data


def _decode_undeclared(data: bytes) -> str:
    """8-bit text that names no charset: UTF-8 when it is, else Windows-1252
    (latin-1 and its superset), which such old mail nearly always is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _raw_header(message: EmailMessage, name: str) -> str | None:
    return next((v for k, v in message.raw_items() if k.casefold() == name.casefold()), None)


def header_text(message: EmailMessage, name: str) -> str | None:
    """A header decoded; as written when it is too broken to decode."""
    try:
        value = message[name]
    except (ValueError, TypeError, IndexError, AttributeError, LookupError):
        raw = _raw_header(message, name)
        return None if raw is None else str(raw)
    if value is None:
        return None
    text = str(value)
    if "\ufffd" in text:
        # Raw 8-bit bytes in a header (no RFC 2047 word) became U+FFFD; the parser
        # kept them as surrogate escapes in the raw value: decode those instead.
        try:
            data = str(_raw_header(message, name)).encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            return text
        text = re.sub(r"\r?\n(?=[ \t])", "", _decode_undeclared(data)).strip()
    return text


def split_labels(value: str) -> list[str]:
    """Gmail's comma-separated labels; a label holding a comma is quoted."""
    row = next(csv.reader([value], skipinitialspace=True), [])
    return [label.strip() for label in row if label.strip()]


def _attachments(message: EmailMessage) -> list[dict[str, Any]]:
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename is None and part.get_content_disposition() != "attachment":
            continue
        payload = part.get_payload(decode=True)
        found.append(
            {
                "filename": filename or "",
                "content_type": part.get_content_type(),
                "size": len(payload) if isinstance(payload, bytes) else 0,
            }
        )
    return found


def body_text(message: EmailMessage) -> str:
    """The text/plain body, else the text/html one as plain text."""
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if part is None:
            continue
        text = _content(part).replace("\r\n", "\n")
        return text.strip("\n") if kind == "plain" else html_to_text(text)
    return ""


def _content(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    if isinstance(content, str) and "\ufffd" in content and part.get_content_charset() is None:
        # 8-bit text with no charset was read as ASCII: read its bytes again.
        content = _decode_undeclared(part.get_payload(decode=True) or b"")
    return content if isinstance(content, str) else ""


class _TextOfHtml(HTMLParser):
    _BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"})
    _HIDDEN = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self.hidden:
            self.hidden -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    return re.sub(r"\s*\n\s*(?:\n\s*)+", "\n\n", text).strip()


def _excerpt(from_line: str, body: bytes) -> str:
    return excerpt_of(from_line + "\n" + body[:600].decode("utf-8", "replace"))


PARSERS: list[Parser] = [
    Parser(product="gmail.mbox", matches=matches, parse=parse, sniff=sniff),
]
