"""Google Fit: sessions (JSON) and daily activity metrics (CSV).

- ``Fit/All Sessions/<start>_<ACTIVITY>.json``: one workout, sleep or walk
  ``{fitnessActivity, startTime, endTime, duration, segment[], aggregate[]}``.
- ``Fit/Daily activity metrics/Daily activity metrics.csv``: one row per day,
  first column the date.
- ``Fit/Daily activity metrics/YYYY-MM-DD.csv``: that day in intervals, the
  first two columns start and end time of day ("00:15:00.000+01:00").

Folder and column names are localised ("Google Fit/Alle Sitzungen",
"Tägliche Aktivitätswerte", "Все сеансы", "일일 활동 측정항목"), so the first
columns (date, times) are read by position and every CSV in a Fit folder is
taken: a day-named one holds intervals, any other the daily summary.

A session stays an event (a workout, a walk, a night); its aggregates, and
every number of both CSVs, are measurements of the health-metric hypertable
(apps/lake/metrics.py), in the streams ``fit.sessions``, ``fit.daily_metrics``
and ``fit.intervals``, each with its cell's text (``MetricRecord.text``). A CSV
column Datapunk knows, in any language it has a source for (csv_columns.py), gives
its metric; any other keeps its header as the metric name, its "(unit)" as unit,
and the file gets one quarantine note naming such columns.
The daily CSV says only the date of the person's day: its rows are whole days
of the user's time zone (``MetricRecord.local_day``); a per-day file's time
without an offset is the person's wall clock, read in their zone by the writer
(``MetricRecord.local_time``), never in UTC or the server's zone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from .. import jsonstream
from ..fields import parse_iso
from ..paths import folder_name, head_text
from ..records import (
    BadRecord,
    EventRecord,
    MemberError,
    MetricRecord,
    Parser,
    Record,
    excerpt_of,
)
from . import in_fit
from .csv_columns import CSV_METRICS, DATE_HEADERS, TIME_HEADERS, column_metric
from .measures import SUMMARY_SUFFIX, is_number, metrics_of

SESSION_FOLDERS = frozenset({"all sessions", "alle sitzungen", "все сеансы", "모든 세션"})
# Older archives: "Daily Aggregations/Daily Summaries.csv".
DAILY_METRICS_NAMES = frozenset(
    {
        "daily activity metrics.csv",
        "daily summaries.csv",
        "tägliche aktivitätswerte.csv",
        "tägliche zusammenfassungen.csv",
    }
)
# "2021-06-09T13_36_25+02_00_WALKING.json"
_SESSION_NAME = re.compile(r"\d{4}-\d{2}-\d{2}t\d{2}_\d{2}_\d{2}.*\.json")
_DAY_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.csv")
SESSION_STREAM = "fit.sessions"
DAILY_STREAM = "fit.daily_metrics"
INTERVAL_STREAM = "fit.intervals"
# A number as a CSV cell holds it: float() also takes "1_000", "nan" and "infinity".
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def matches_session(path: PurePosixPath) -> bool:
    name = folder_name(path.name)
    if not name.endswith(".json") or not in_fit(path):
        return False
    return (
        folder_name(path.parent.name) in SESSION_FOLDERS
        or _SESSION_NAME.fullmatch(name) is not None
    )


def matches_daily_metrics(path: PurePosixPath) -> bool:
    name = folder_name(path.name)
    if not name.endswith(".csv") or _DAY_NAME.fullmatch(name):
        return False
    return name in DAILY_METRICS_NAMES or in_fit(path)


def matches_intervals(path: PurePosixPath) -> bool:
    return _DAY_NAME.fullmatch(folder_name(path.name)) is not None and in_fit(path)


def sniff_session(head: bytes) -> bool:
    text = head_text(head)
    return text.startswith("{") and '"fitnessActivity"' in text and '"startTime"' in text


def _header_cells(head: bytes) -> list[str]:
    line = head_text(head).split("\n", 1)[0].strip().casefold()
    return [cell.strip().strip('"') for cell in line.split(",")]


def sniff_daily_metrics(head: bytes) -> bool:
    cells = _header_cells(head)
    return cells[0] in DATE_HEADERS and any(cell in CSV_METRICS for cell in cells[1:])


def sniff_intervals(head: bytes) -> bool:
    cells = _header_cells(head)
    return cells[0] in TIME_HEADERS and any(cell in CSV_METRICS for cell in cells[2:])


def parse_session(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    # Numbers as written, for the aggregates' measurements; the event keeps doubles,
    # as before (its text and data are part of its identity: a re-import stays one row).
    exact = jsonstream.load_small(stream, exact_numbers=True)
    session = jsonstream.plain(exact)
    record = session_record(session)
    yield record
    if isinstance(record, EventRecord) and record.occurred_at is not None:
        yield from session_metrics(exact, record.occurred_at, record.ended_at)


def session_metrics(
    session: dict[str, Any], started: datetime, ended: datetime | None
) -> Iterator[MetricRecord]:
    """The session's aggregates ("com.google.step_count.delta": 1234) over its span."""
    aggregates = session.get("aggregate")
    for aggregate in aggregates if isinstance(aggregates, list) else []:
        if not isinstance(aggregate, dict) or not isinstance(aggregate.get("metricName"), str):
            continue
        value = aggregate.get("intValue", aggregate.get("floatValue"))
        if not is_number(value):
            continue
        name = aggregate["metricName"]
        name = name[: -len(SUMMARY_SUFFIX)] if name.endswith(SUMMARY_SUFFIX) else name
        yield from metrics_of(name, [value], started, ended or started, SESSION_STREAM)


def session_record(session: Any) -> Record:
    if not isinstance(session, dict):
        return BadRecord(
            "a Fit session is a JSON object; this file holds something else", excerpt_of(session)
        )
    if not session.get("startTime"):
        return BadRecord("Fit session without startTime", excerpt_of(session))
    try:
        started = parse_iso(session["startTime"])
        ended = parse_iso(session["endTime"]) if session.get("endTime") else None
    except ValueError as exc:
        return BadRecord(f"Fit session time: {exc}", excerpt_of(session))
    return EventRecord(
        kind="fit.session",
        occurred_at=started,
        ended_at=ended,
        title=str(session.get("fitnessActivity") or ""),
        text=_aggregates_text(session.get("aggregate")),
        data=session,
    )


def parse_daily_metrics(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    header, rows = _read_csv(stream)
    yield from _unknown_columns_note(header, 1)
    for line_no, row in rows:
        yield from _daily_records(header, row, line_no)


def parse_intervals(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    day_match = _DAY_NAME.fullmatch(folder_name(path.name))
    if day_match is None:
        raise MemberError(
            "a Fit interval file is named after its day (YYYY-MM-DD.csv); this one is not"
        )
    day = date.fromisoformat(day_match[1])
    header, rows = _read_csv(stream)
    yield from _unknown_columns_note(header, 2)
    for line_no, row in rows:
        yield from _interval_records(day, header, row, line_no)


def _daily_records(header: list[str], row: list[str], line_no: int) -> Iterator[Record]:
    try:
        day = date.fromisoformat(row[0].strip())
    except ValueError:
        yield BadRecord(
            f"line {line_no}: first column is not a date (YYYY-MM-DD): {row[0]!r}",
            excerpt_of(_row_dict(header, row)),
        )
        return
    # Placed in the user's zone by the writer; start and end only say which day.
    midnight = datetime.combine(day, time(), UTC)
    yield from _row_metrics(
        header, row, 1, midnight, midnight + timedelta(days=1), DAILY_STREAM, line_no, day
    )


def _interval_records(
    day: date, header: list[str], row: list[str], line_no: int
) -> Iterator[Record]:
    try:
        start = _time_of_day(day, row[0])
        end = _time_of_day(day, row[1]) if len(row) > 1 and row[1].strip() else start
        if (start.tzinfo is None) != (end.tzinfo is None):
            raise ValueError("one time has an offset and the other not")
    except ValueError as exc:
        yield BadRecord(f"line {line_no}: {exc}", excerpt_of(_row_dict(header, row)))
        return
    if end <= start and len(row) > 1 and row[1].strip():
        end += timedelta(days=1)  # the last interval ends at the next midnight
    yield from _row_metrics(
        header, row, 2, start, end, INTERVAL_STREAM, line_no, None, local_time=start.tzinfo is None
    )


def _unknown_columns_note(header: list[str], first: int) -> Iterator[Record]:
    """One quarantine note for the columns of ``header`` (from ``first`` on) that
    csv_columns does not list: their numbers are stored all the same."""
    unknown = [
        column for column in header[first:] if column.strip() and not column_metric(column)[2]
    ]
    if unknown:
        names = ", ".join(repr(column) for column in unknown)
        yield BadRecord(
            f"Fit CSV columns Datapunk does not recognise (a language or a column it has no"
            f" source for): {names}. Their numbers are stored, under the column's header as"
            " the metric name, not as steps, calories, distance...; nothing was dropped",
            excerpt_of(",".join(header)),
        )


def _row_metrics(
    header: list[str],
    row: list[str],
    first: int,
    start: datetime,
    end: datetime,
    stream: str,
    line_no: int,
    local_day: date | None,
    *,
    local_time: bool = False,
) -> Iterator[Record]:
    """One measurement per non-empty number of ``row`` from column ``first`` on, its
    text as the cell has it."""
    for column, cell in zip(header[first:], row[first:], strict=False):
        text = cell.strip()
        if not text:
            continue
        if _NUMBER.fullmatch(text) is None:
            yield BadRecord(
                f"line {line_no}: {column!r} is not a number: {cell!r}",
                excerpt_of(_row_dict(header, row)),
            )
            continue
        metric, unit, _ = column_metric(column)
        if not metric:
            continue
        yield MetricRecord(
            metric[:64],
            start,
            end,
            float(text),
            unit,
            stream,
            local_day=local_day,
            text=text,
            local_time=local_time,
        )
    if len(row) > len(header):
        yield BadRecord(
            f"line {line_no}: more cells than the header has columns",
            excerpt_of(_row_dict(header, row)),
        )


def _time_of_day(day: date, value: str) -> datetime:
    """``value`` ("00:15:00.000+05:30") on ``day``; naive when the cell has no offset:
    then it is the person's own wall clock, which the writer reads in their zone."""
    try:
        moment = time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not a time of day: {value!r}") from None
    return datetime.combine(day, moment, moment.tzinfo)


def _read_csv(stream: BinaryIO) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise MemberError("the CSV file is empty") from None
    except UnicodeDecodeError as exc:
        raise MemberError(f"not UTF-8 encoded CSV: {exc}") from None
    except csv.Error as exc:
        raise MemberError(f"unreadable CSV header: {exc}") from None
    return header, _rows(reader)


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise MemberError(f"not UTF-8 encoded CSV: {exc}") from None
    except csv.Error as exc:
        raise MemberError(f"unreadable CSV at line {reader.line_num}: {exc}") from None


def _row_dict(header: list[str], row: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = dict(zip(header, row, strict=False))
    if len(row) > len(header):
        values["_extra"] = row[len(header) :]
    return values


def _aggregates_text(aggregates: Any) -> str:
    lines = []
    for aggregate in aggregates if isinstance(aggregates, list) else []:
        if not isinstance(aggregate, dict):
            continue
        value = aggregate.get("intValue", aggregate.get("floatValue"))
        if aggregate.get("metricName") and value is not None:
            lines.append(f"{aggregate['metricName']}: {value}")
    return "\n".join(lines)


PARSERS: list[Parser] = [
    Parser(
        product="fit.sessions", matches=matches_session, parse=parse_session, sniff=sniff_session
    ),
    Parser(
        product="fit.daily_metrics",
        matches=matches_daily_metrics,
        parse=parse_daily_metrics,
        sniff=sniff_daily_metrics,
    ),
    Parser(
        product="fit.intervals",
        matches=matches_intervals,
        parse=parse_intervals,
        sniff=sniff_intervals,
    ),
]
