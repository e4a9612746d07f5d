"""Google Contacts: ``Takeout/Contacts/<Label>/<Label>.vcf`` (vCard 3.0; 4.0 and 2.1 elsewhere).

The folder is localised ("Kontakte", "Google Kontakte", "Contactos"), the
extension is not, so any ``.vcf`` file is an address book. Cards are read one
``BEGIN:VCARD`` block at a time. Property values are kept exactly as written
(escapes included) so nothing is lost or merged: vobject, tried first,
silently drops list values such as a second NICKNAME.
"""

from __future__ import annotations

import binascii
import quopri
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from .fields import check_coordinates, parse_iso
from .ical_blocks import Block, iter_blocks
from .paths import head_text
from .records import BadRecord, EventRecord, MemberError, Parser, Record, excerpt_of

# Contacts carry embedded photos (tens of kilobytes); past this a card is damage.
CARD_LIMIT = 16 * 1024 * 1024
# Embedded binaries (PHOTO;ENCODING=b) are replaced by their size in ``data``;
# the picture is not a fact about the contact a timeline can use.
_BINARY_ENCODINGS = frozenset({"b", "base64"})
_INLINE_DATA_LIMIT = 1024

_LINE = re.compile(
    r"(?:(?P<group>[A-Za-z0-9-]+)\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;(?:[^:\";]|\"[^\"]*\")*)*):(?P<value>.*)",
    re.DOTALL,
)
_SPLIT_PARAMS = re.compile(r";(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")
_SPLIT_VALUES = re.compile(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")
_GEO = re.compile(r"^\s*(?:geo:)?\s*(-?\d+(?:\.\d+)?)\s*[;,]\s*(-?\d+(?:\.\d+)?)")


def matches(path: PurePosixPath) -> bool:
    return path.suffix.casefold() == ".vcf"


def sniff(head: bytes) -> bool:
    return head_text(head).upper().startswith("BEGIN:VCARD")


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    cards = 0
    for block in iter_blocks(stream, frozenset({"VCARD"}), CARD_LIMIT):
        if block.name:
            cards += 1
            yield contact_record(block)
            continue
        line = block.text().strip()
        if not line:
            continue
        if not cards:
            raise MemberError("not a vCard file: it does not start with BEGIN:VCARD")
        yield BadRecord(f"text outside any vCard at line {block.line_no}", excerpt_of(line))
    if not cards:
        raise MemberError("no vCard in the file (no BEGIN:VCARD line)")


def contact_record(block: Block) -> Record:
    where = f"contact at line {block.line_no}"
    if block.too_big:
        return BadRecord(f"{where} is larger than {CARD_LIMIT // 2**20} MB", excerpt=where)
    text = block.text()
    if block.truncated:
        return BadRecord(f"{where}: the file ends before its END:VCARD", excerpt_of(text))
    properties, unparsed = read_properties(text)
    data: dict[str, Any] = {"properties": properties}
    if unparsed:
        data["unparsed_lines"] = unparsed
    latitude, longitude = _geo(properties)
    return EventRecord(
        kind="contacts.contact",
        occurred_at=_revision(properties),
        title=_display_name(properties),
        text=unescape(_first(properties, "NOTE")),
        url=_first(properties, "URL"),
        latitude=latitude,
        longitude=longitude,
        data=data,
    )


def read_properties(text: str) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """``{NAME: [{"value", "params"?, "group"?}]}`` of a card, and the lines that were not properties."""
    properties: dict[str, list[dict[str, Any]]] = {}
    unparsed: list[str] = []
    for line in _logical_lines(text):
        match = _LINE.fullmatch(line)
        if match is None:
            unparsed.append(line)
            continue
        name = match["name"].upper()
        if name in ("BEGIN", "END"):
            continue
        params = _params(match["params"])
        entry: dict[str, Any] = {"value": _value(match["value"], params)}
        if params:
            entry["params"] = params
        if match["group"]:
            entry["group"] = match["group"]
        properties.setdefault(name, []).append(entry)
    return properties, unparsed


def unescape(value: str) -> str:
    """A TEXT value for display: vCard escapes ``\\n``, ``\\,``, ``\\;`` and ``\\\\``."""
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] in "nN" else m[1], value)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif (
            lines
            and lines[-1].endswith("=")
            and "QUOTED-PRINTABLE" in lines[-1].upper().split(":", 1)[0]
        ):
            lines[-1] = lines[-1][:-1] + raw  # vCard 2.1 soft line break
        elif raw.strip():
            lines.append(raw)
    return lines


def _params(text: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for part in _SPLIT_PARAMS.split(text)[1:]:
        key, has_value, value = part.partition("=")
        if not has_value:  # vCard 2.1 "TEL;WORK;VOICE:" means TYPE=WORK,VOICE
            key, value = "TYPE", key
        values = [v.strip().strip('"') for v in _SPLIT_VALUES.split(value)]
        params.setdefault(key.strip().upper(), []).extend(values)
    return params


def _value(raw: str, params: dict[str, list[str]]) -> Any:
    encodings = {e.casefold() for e in params.get("ENCODING", [])}
    if encodings & _BINARY_ENCODINGS or (raw.startswith("data:") and len(raw) > _INLINE_DATA_LIMIT):
        return {"omitted": "embedded binary", "base64_chars": len(raw.strip())}
    if "quoted-printable" in encodings:
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        try:
            return quopri.decodestring(raw.encode("latin-1", "replace")).decode(charset, "replace")
        except (LookupError, binascii.Error, ValueError):
            return raw
    return raw


def _first(properties: dict[str, list[dict[str, Any]]], name: str) -> str:
    for entry in properties.get(name, []):
        if isinstance(entry["value"], str) and entry["value"]:
            return entry["value"]
    return ""


def _display_name(properties: dict[str, list[dict[str, Any]]]) -> str:
    if name := _first(properties, "FN"):
        return unescape(name)
    # N is "Family;Given;Additional;Prefix;Suffix"; show it as people write names.
    parts = [unescape(p) for p in re.split(r"(?<!\\);", _first(properties, "N"))]
    ordered = [*parts[3:4], *parts[1:3], *parts[0:1], *parts[4:5]]
    if shown := " ".join(p for p in ordered if p.strip()):
        return shown
    return unescape(_first(properties, "ORG").replace(";", ", ")) or _first(properties, "EMAIL")


def _revision(properties: dict[str, list[dict[str, Any]]]) -> datetime | None:
    """REV, the card's last change; a contact has no time of its own otherwise."""
    value = _first(properties, "REV").strip()
    if not value:
        return None
    # vCard writes basic format ("20231215T120000Z") as often as extended.
    basic = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?", value)
    try:
        if basic:
            year, month, day, hour, minute, second, zulu = basic.groups()
            return datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                tzinfo=UTC,
            )
        return parse_iso(value)
    except ValueError:
        return None  # kept verbatim in data; an odd REV does not spoil the contact


def _geo(properties: dict[str, list[dict[str, Any]]]) -> tuple[float | None, float | None]:
    match = _GEO.match(_first(properties, "GEO"))
    if match is None:
        return None, None
    try:
        return check_coordinates(float(match[1]), float(match[2]))
    except ValueError:
        return None, None


PARSERS: list[Parser] = [
    Parser(product="contacts.vcf", matches=matches, parse=parse, sniff=sniff),
]
