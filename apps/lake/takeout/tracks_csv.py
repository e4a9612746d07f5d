"""CSV track logs (GPSLogger, phone tracker apps, spreadsheets).

Known by a header naming a latitude, a longitude and a time column, in the
common spellings (``lat``/``latitude``/``latitudeE7``, ``lon``/``lng``/
``longitude``, ``time``/``timestamp``/``date`` + ``time``...), with ``,``,
``;`` or tab between fields. Values may be degrees, E7 integers, degrees with
an N/S/E/W suffix or prefix, or use a decimal comma (``;`` files). Times
are ISO 8601 or epoch seconds/milliseconds; a time without an offset is
taken as UTC. Columns not understood are kept in each point's data.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import BinaryIO

from .fields import check_coordinates, parse_iso
from .paths import head_text
from .records import BadRecord, LocationRecord, MemberError, Parser, Record, excerpt_of
from .tracks_json import moment_of

SOURCE = "csv"

_LATITUDE = ("latitude", "lat", "latitudee7", "latitude_e7", "lat_e7", "y")
_LONGITUDE = ("longitude", "lon", "lng", "long", "longitudee7", "longitude_e7", "lon_e7", "x")
_TIME = (
    "timestamp",
    "time",
    "datetime",
    "date_time",
    "date time",
    "recorded_at",
    "utc",
    "tst",
    "timestampms",
    "timestamp_ms",
)
_DATE = ("date", "utc date", "utc_date")
_ACCURACY = ("accuracy", "acc", "accuracy(m)", "horizontal_accuracy", "hacc")
_ALTITUDE = ("altitude", "alt", "elevation", "ele", "altitude(m)")
_SPEED = ("speed", "velocity", "speed(m/s)")
_HEADING = ("bearing", "heading", "course", "cog")
_DELIMITERS = (",", ";", "\t")
_HEMISPHERE = re.compile(r"^\s*([NSEWnsew])?\s*([-+]?\d+(?:[.,]\d+)?)\s*°?\s*([NSEWnsew])?\s*$")
_DATE_ONLY = re.compile(r"^\d{4}-\d\d-\d\d$")


def _norm(name: str) -> str:
    return name.strip().strip('"').strip().casefold()


def _first(columns: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in columns:
            return columns.index(name)
    return None


def _layout(header: str) -> tuple[str, list[str]] | None:
    """The delimiter and normalized column names, when the header is a track's."""
    for delimiter in _DELIMITERS:
        columns = [_norm(c) for c in next(csv.reader([header], delimiter=delimiter))]
        if (
            _first(columns, _LATITUDE) is not None
            and _first(columns, _LONGITUDE) is not None
            and (_first(columns, _TIME) is not None or _first(columns, _DATE) is not None)
        ):
            return delimiter, columns
    return None


def sniff(head: bytes) -> bool:
    # Every lone file is offered to this sniffer: any line ending (an mbox's CRLF,
    # an old Mac file's bare CR) ends the first line, and a header that the csv
    # module cannot read is simply not a track's.
    lines = head_text(head).splitlines()
    first_line = lines[0] if lines else ""
    if "{" in first_line or "<" in first_line:
        return False
    try:
        return _layout(first_line) is not None
    except csv.Error:
        return False


def degrees(value: str, *, e7: bool, axis: str) -> float:
    """A coordinate from text: "48.1", "48,1", "48.1N", "W 11.5", "481234567" (E7)."""
    match = _HEMISPHERE.match(value)
    if not match:
        raise ValueError(f"not a {axis}: {value!r}")
    hemisphere = (match.group(1) or match.group(3) or "").upper()
    text = match.group(2).replace(",", ".")
    number = float(text)
    if e7 or ("." not in text and abs(number) > 180):
        number = number / 1e7
    if hemisphere in ("S", "W"):
        number = -abs(number)
    elif hemisphere and hemisphere not in (("N",) if axis == "latitude" else ("E",)):
        raise ValueError(f"{hemisphere} is no hemisphere of a {axis}: {value!r}")
    return number


def _optional(row: list[str], index: int | None) -> float | None:
    if index is None or index >= len(row) or not row[index].strip():
        return None
    try:
        return float(row[index].strip().replace(",", "."))
    except ValueError:
        raise ValueError(f"not a number: {row[index]!r}") from None


def _moment(row: list[str], time_index: int | None, date_index: int | None) -> datetime:
    time_text = row[time_index].strip() if time_index is not None else ""
    date_text = row[date_index].strip() if date_index is not None else ""
    if date_text and time_text and _DATE_ONLY.match(date_text) and ":" in time_text[:3]:
        return parse_iso(f"{date_text}T{time_text}")  # separate date and time columns
    text = time_text or date_text
    if not text:
        raise ValueError("a row without a time")
    return moment_of(text)


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")  # type: ignore[type-var]
    try:
        header = text.readline()
        layout = _layout(header.rstrip("\r\n"))
        if layout is None:
            raise MemberError("the CSV header names no latitude, longitude and time columns")
        delimiter, columns = layout
        lat_index = _first(columns, _LATITUDE)
        lon_index = _first(columns, _LONGITUDE)
        assert lat_index is not None and lon_index is not None  # _layout found them
        time_index = _first(columns, _TIME)
        date_index = _first(columns, _DATE)
        e7 = "e7" in columns[lat_index]
        mapped = {
            "accuracy": _first(columns, _ACCURACY),
            "altitude": _first(columns, _ALTITUDE),
            "speed": _first(columns, _SPEED),
            "heading": _first(columns, _HEADING),
        }
        used = {lat_index, lon_index, time_index, date_index, *mapped.values()}
        for number, row in enumerate(csv.reader(text, delimiter=delimiter), start=2):
            if not any(cell.strip() for cell in row):
                continue
            try:
                latitude, longitude = check_coordinates(
                    degrees(row[lat_index], e7=e7, axis="latitude"),
                    degrees(row[lon_index], e7=e7, axis="longitude"),
                )
                extra = {
                    columns[i]: row[i]
                    for i in range(min(len(columns), len(row)))
                    if i not in used and row[i] != ""
                }
                yield LocationRecord(
                    recorded_at=_moment(row, time_index, date_index),
                    latitude=latitude,
                    longitude=longitude,
                    accuracy_m=_optional(row, mapped["accuracy"]),
                    altitude_m=_optional(row, mapped["altitude"]),
                    velocity_mps=_optional(row, mapped["speed"]),
                    heading_deg=_optional(row, mapped["heading"]),
                    source=SOURCE,
                    data=extra or None,
                )
            except (ValueError, IndexError) as exc:
                reason = "missing columns" if isinstance(exc, IndexError) else str(exc)
                yield BadRecord(f"CSV row {number}: {reason}", excerpt_of(delimiter.join(row)))
    except UnicodeDecodeError:
        raise MemberError("the CSV file is not UTF-8 encoded") from None
    except csv.Error as exc:
        raise MemberError(f"unreadable CSV: {exc}") from None
    finally:
        text.detach()


PARSERS: list[Parser] = [
    Parser(product="tracks.csv", matches=lambda path: False, parse=parse, sniff=sniff),
]
