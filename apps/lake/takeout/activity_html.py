"""The HTML flavour of My Activity (and of YouTube's watch and search history).

One page of "outer-cell" cards, each holding a header, a body cell (title
line, subtitle lines, and the time as its last line) and a caption cell
(Products / Locations / Details, under labels written in the account's
language). Files reach hundreds of MB, so the page is fed to HTMLParser in
chunks and every card is handed on as soon as it closes. Cards come out in
the shape of the JSON flavour, so both feed the same records.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any, BinaryIO

from .records import MemberError

CHUNK_BYTES = 1024 * 1024

# Caption labels, casefolded without the colon. Unknown labels are kept too.
_PRODUCTS = frozenset({"products", "produkte", "produits", "productos", "producten", "prodotti"})
_LOCATIONS = frozenset(
    {"locations", "standorte", "orte", "lieux", "emplacements", "ubicaciones", "locaties"}
)
_DETAILS = frozenset({"details", "détails", "detalles", "dettagli", "detalhes"})
_MAPS_LINK = re.compile(r"google\.[a-z.]+/maps")


@dataclass(slots=True)
class _Line:
    parts: list[str] = field(default_factory=list)
    url: str = ""

    def text(self) -> str:
        return clean_text("".join(self.parts))


@dataclass(slots=True)
class _Card:
    header: list[str] = field(default_factory=list)
    body: list[_Line] = field(default_factory=lambda: [_Line()])
    # (label, lines); the part before the first label has label "".
    sections: list[tuple[str, list[_Line]]] = field(default_factory=lambda: [("", [_Line()])])
    label: list[str] | None = None  # collecting a <b> label


def clean_text(text: str) -> str:
    """Collapse the no-break and em spaces Takeout pads its HTML with."""
    return " ".join(text.split())


class _CardReader(HTMLParser):
    """Collects finished cards in ``cards``; the caller drains it after each feed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cards: list[_Card] = []
        self.seen_card = False
        self._card: _Card | None = None
        # Role of every open <div>; text belongs to the innermost cell role.
        self._divs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div":
            classes = set((dict(attrs).get("class") or "").split())
            if "outer-cell" in classes:
                # The real pages sometimes close one div too many or too few:
                # a new card always ends the one before it.
                self._finish()
                self._card = _Card()
                self.seen_card = True
                self._divs = ["outer"]
            else:
                self._divs.append(_role(classes) if self._card else "div")
            return
        role = self._role()
        card = self._card
        if card is None or role == "":
            return
        if tag == "br":
            if role == "body":
                card.body.append(_Line())
            elif role == "caption" and card.label is None:
                card.sections[-1][1].append(_Line())
        elif tag == "a" and role in ("body", "caption"):
            line = card.body[-1] if role == "body" else card.sections[-1][1][-1]
            if not line.url:
                line.url = dict(attrs).get("href") or ""
        elif tag == "b" and role == "caption":
            card.label = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            if self._divs and self._divs.pop() == "outer":
                self._finish()
        elif tag == "b" and self._card is not None and self._card.label is not None:
            label = clean_text("".join(self._card.label)).rstrip(":： ").casefold()
            self._card.sections.append((label, [_Line()]))
            self._card.label = None

    def handle_data(self, data: str) -> None:
        role = self._role()
        card = self._card
        if card is None:
            return
        if role == "header":
            card.header.append(data)
        elif role == "body":
            card.body[-1].parts.append(data)
        elif role == "caption":
            if card.label is not None:
                card.label.append(data)
            else:
                card.sections[-1][1][-1].parts.append(data)

    def close(self) -> None:
        super().close()
        self._finish()  # a page cut short still hands on its last card

    def _role(self) -> str:
        for role in reversed(self._divs):
            if role in ("header", "body", "caption", "aside"):
                return role
        return ""

    def _finish(self) -> None:
        if self._card is not None:
            self.cards.append(self._card)
            self._card = None
            self._divs = []


def _role(classes: set[str]) -> str:
    if "header-cell" in classes:
        return "header"
    if "content-cell" not in classes:
        return "div"
    if "mdl-typography--text-right" in classes:
        return "aside"  # layout spacer, sometimes a thumbnail
    if "mdl-typography--caption" in classes:
        return "caption"
    if "mdl-typography--body-1" in classes:
        return "body"
    return "div"


def iter_cards(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    """Yield each card as a dict shaped like a My Activity JSON item.

    ``time`` stays the string the page shows; read it with parse_html_time.
    A card without any line of text has no ``time`` key.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    reader = _CardReader()
    while True:
        chunk = stream.read(CHUNK_BYTES)
        try:
            reader.feed(decoder.decode(chunk, final=not chunk))
        except UnicodeDecodeError as exc:
            raise MemberError(f"not UTF-8 encoded HTML: {exc}") from None
        if not chunk:
            reader.close()
        yield from (card_item(card) for card in reader.cards)
        reader.cards.clear()
        if not chunk:
            break
    if not reader.seen_card:
        raise MemberError("no activity cards (outer-cell) found: not a My Activity HTML page")


def card_item(card: _Card) -> dict[str, Any]:
    item: dict[str, Any] = {"header": clean_text(" ".join(card.header))}
    lines = [line for line in card.body if line.text() or line.url]
    if lines:
        # The last line is the time; the first, if another is left, the title.
        item["time"] = lines.pop().text()
    if lines:
        title = lines.pop(0)
        item["title"] = title.text()
        if title.url:
            item["titleUrl"] = title.url
    if lines:
        item["subtitles"] = [_named(line) for line in lines]
    item.update(_caption(card.sections))
    return item


def _named(line: _Line) -> dict[str, str]:
    named = {"name": line.text()}
    if line.url:
        named["url"] = line.url
    return named


def _caption(sections: list[tuple[str, list[_Line]]]) -> dict[str, Any]:
    caption: dict[str, Any] = {}
    other: dict[str, list[str]] = {}
    for label, raw_lines in sections:
        lines = [line for line in raw_lines if line.text() or line.url]
        if not lines:
            continue
        if label in _PRODUCTS:
            caption.setdefault("products", []).extend(line.text() for line in lines)
        elif label in _LOCATIONS or any(_MAPS_LINK.search(line.url) for line in lines):
            caption.setdefault("locationInfos", []).extend(_named(line) for line in lines)
        elif label in _DETAILS:
            caption.setdefault("details", []).extend({"name": line.text()} for line in lines)
        else:
            other.setdefault(label, []).extend(line.text() for line in lines)
    if other:
        caption["captions"] = other  # e.g. "Why is this here?": kept, not interpreted
    return caption


# --- the time line ---------------------------------------------------------

_MONTH_NAMES = (
    "jan january januar jän jänner janv janvier ene enero gen gennaio janeiro januari",
    "feb february februar févr février fev fevereiro febrero febbraio februari",
    "mar march märz mär mrz mars marzo março mrt maart",
    "apr april avr avril abr abril aprile",
    "may mai mayo mag maggio maio mei",
    "jun june juni juin junio giu giugno junho",
    "jul july juli juil juillet julio lug luglio julho",
    "aug august août aout ago agosto augustus",
    "sep sept september septembre set septiembre setiembre settembre setembro",
    "oct october okt oktober octobre octubre ott ottobre out outubro",
    "nov november novembre noviembre novembro",
    "dec december dez dezember déc décembre dic diciembre dicembre dezembro",
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}

_CLOCK = r"(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})(?: ?(?P<ampm>[ap])\.? ?m\.?)?"
_ZONE = r"(?: (?P<tz>\S+))?"
_TIME_FORMATS = (
    # "Nov 7, 2020, 10:15:09 PM EST" (English)
    re.compile(r"(?P<mon>[^\W\d_]+)\.? (?P<d>\d{1,2}), (?P<y>\d{4}),? (?:at )?" + _CLOCK + _ZONE),
    # "7 Nov 2020, 22:15:09 CET", "17. Aug. 2026, 13:14:48 MESZ", "15 de jun. de 2026 20:30:41"
    re.compile(
        r"(?P<d>\d{1,2})\.? (?:de )?(?P<mon>[^\W\d_]+)\.?,? (?:de )?(?P<y>\d{4}),? "
        r"(?:à |um |a las |at )?" + _CLOCK + _ZONE
    ),
    # "27.08.2026, 20:04:54 MESZ", "27/08/2026, 20:04:54 CEST"
    re.compile(r"(?P<d>\d{1,2})[./](?P<mon>\d{1,2})[./](?P<y>\d{4}),? " + _CLOCK + _ZONE),
    # "2026年7月30日 00:23:06 CEST"
    re.compile(r"(?P<y>\d{4})年(?P<mon>\d{1,2})月(?P<d>\d{1,2})日,? " + _CLOCK + _ZONE),
)

# Fixed offsets of the abbreviations Takeout writes. Since about 2020 it prints
# every time in the zone the export was made in (a January time can say BST),
# so the clock time and its abbreviation always agree: the fixed offset of the
# abbreviation gives the right instant, whatever the season of the event.
# IST is ambiguous (India, Ireland, Israel): India's is by far the commonest.
_ZONES_HOURS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 5.5,
    "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "WAT": 1, "CAT": 2, "EAT": 3, "SAST": 2, "TRT": 3, "GST": 4, "PKT": 5,
    "WIB": 7, "ICT": 7, "SGT": 8, "HKT": 8, "AWST": 8, "PHT": 8, "JST": 9, "KST": 9,
    "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
    "NST": -3.5, "NDT": -2.5, "AST": -4, "ADT": -3, "EST": -5, "EDT": -4,
    "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "BRT": -3, "ART": -3,
}  # fmt: skip
_OFFSET = re.compile(r"(?:UTC|GMT)(?P<sign>[+\-−])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?")


def parse_html_time(text: str) -> datetime:
    """The time line of a card, timezone-aware; ValueError with a user-readable reason."""
    plain = " ".join(text.replace("\u200f", "").replace("\u200e", "").split())
    for pattern in _TIME_FORMATS:
        match = pattern.fullmatch(plain.casefold())
        if match:
            return _moment(match, plain)
    raise ValueError(f"unreadable time {text!r}")


def _moment(match: re.Match[str], original: str) -> datetime:
    month_text = match["mon"]
    month = int(month_text) if month_text.isdecimal() else _MONTHS.get(month_text)
    if month is None:
        raise ValueError(f"unknown month {month_text!r} in time {original!r}")
    hour = int(match["h"])
    if match["ampm"]:
        hour = hour % 12 + (12 if match["ampm"] == "p" else 0)
    zone = _zone(match["tz"], original)
    try:
        day = int(match["d"])
        return datetime(
            int(match["y"]), month, day, hour, int(match["mi"]), int(match["s"]), 0, zone
        )
    except ValueError:
        raise ValueError(f"impossible date or time {original!r}") from None


def _zone(tz: str | None, original: str) -> timezone:
    if tz is None:
        # Pages from before 2018 print no zone; those times are UTC.
        return UTC
    name = tz.upper()
    if name in _ZONES_HOURS:
        return timezone(timedelta(hours=_ZONES_HOURS[name]))
    offset = _OFFSET.fullmatch(name)
    if offset:
        minutes = int(offset["h"]) * 60 + int(offset["m"] or 0)
        return timezone(timedelta(minutes=-minutes if offset["sign"] in "-−" else minutes))
    raise ValueError(f"unknown time zone {name!r} in time {original!r}")
