"""Google Calendar: one ``.ics`` file per calendar (``Takeout/Calendar/<name>.ics``).

The folder is localised ("Kalender", "Agenda", "Calendario"), the extension
is not, so any ``.ics`` file is a calendar. Events are read one ``VEVENT``
block at a time (ical_blocks) and parsed with icalendar; recurring events stay
one record with their RRULE kept in ``data``, never expanded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import PurePosixPath
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Event, Timezone
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .fields import check_coordinates
from .ical_blocks import Block, iter_blocks, unfold
from .paths import head_text
from .records import BadRecord, EventRecord, MemberError, Parser, Record, excerpt_of

# A Google event is a few kilobytes; one this big is not an event but damage,
# and holding it would let one member eat the worker's memory.
EVENT_LIMIT = 4 * 1024 * 1024
_COMPONENTS = frozenset({"VEVENT", "VTIMEZONE"})
# Calendar-level properties (X-WR-CALNAME...) precede the components; past
# this many outside lines the rest is only blank lines or junk.
_HEADER_LINES = 200
_CALENDAR_KEYS = ("X-WR-CALNAME", "X-WR-TIMEZONE", "X-WR-CALDESC", "PRODID")


def matches(path: PurePosixPath) -> bool:
    return path.suffix.casefold() == ".ics"


def sniff(head: bytes) -> bool:
    return head_text(head).upper().startswith("BEGIN:VCALENDAR")


def parse(stream: BinaryIO, path: PurePosixPath) -> Iterator[Record]:
    zones: dict[str, tzinfo] = {}
    header: list[bytes] = []
    calendar: dict[str, str] = {}
    started = False
    for block in iter_blocks(stream, _COMPONENTS, EVENT_LIMIT):
        if not block.name:
            line = block.lines[0]
            started = started or line.strip().upper() == b"BEGIN:VCALENDAR"
            if len(header) < _HEADER_LINES:
                header.append(line)
                calendar = {}
            continue
        if not started:
            raise MemberError(
                "not an iCalendar file: no BEGIN:VCALENDAR before its first component"
            )
        if block.name == "VTIMEZONE":
            _add_zone(block, zones)
            continue
        calendar = calendar or _calendar_properties(header)
        yield event_record(block, calendar, zones)
    if not started:
        raise MemberError("not an iCalendar file: it has no BEGIN:VCALENDAR line")


def event_record(block: Block, calendar: dict[str, str], zones: dict[str, tzinfo]) -> Record:
    """The record of one VEVENT block, or a BadRecord saying what is wrong with it."""
    where = f"event at line {block.line_no}"
    if block.too_big:
        return BadRecord(f"{where} is larger than {EVENT_LIMIT // 2**20} MB", excerpt=where)
    text = block.text()
    if block.truncated:
        return BadRecord(f"{where}: the file ends before its END:VEVENT", excerpt_of(text))
    try:
        event = Event.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return BadRecord(f"unreadable {where}: {exc}", excerpt_of(text))
    if "DTSTART" not in event:
        return BadRecord(f"{where} has no start time (DTSTART)", excerpt_of(text))
    default_zone = _zone(calendar.get("X-WR-TIMEZONE", ""), zones) or UTC
    properties = properties_of(event)
    data: dict[str, Any] = {"properties": properties}
    if "DTSTAMP" in properties:
        # When the file was written (Google stamps exports), not part of the event.
        data["DTSTAMP"] = properties.pop("DTSTAMP")
    try:
        start, all_day, floating = _moment(event["DTSTART"], default_zone, zones)
        ended_at = _end(event, start, default_zone, zones)
        latitude, longitude = _geo(event)
    except ValueError as exc:
        return BadRecord(f"{where}: {exc}", excerpt_of(text))
    if all_day:
        data["all_day"] = True
    if floating:
        data["floating_time_zone"] = str(default_zone)
    if calendar:
        data["calendar"] = calendar
    if event.subcomponents:
        data["components"] = [
            {"name": sub.name, "properties": properties_of(sub)} for sub in event.subcomponents
        ]
    return EventRecord(
        kind="calendar.event",
        occurred_at=start,
        ended_at=ended_at,
        title=_text(event.get("SUMMARY")),
        text=_text(event.get("DESCRIPTION")),
        url=_text(event.get("URL")),
        latitude=latitude,
        longitude=longitude,
        data=data,
        copy_fields=("DTSTAMP",),
    )


def properties_of(component: Any) -> dict[str, list[dict[str, Any]]]:
    """Every property of a component as text: ``{NAME: [{"value", "params"?}]}``."""
    result: dict[str, list[dict[str, Any]]] = {}
    for name, value in component.items():
        for one in value if isinstance(value, list) else [value]:
            entry: dict[str, Any] = {"value": _text(one)}
            params = getattr(one, "params", None)
            if params:
                entry["params"] = {key: _param(item) for key, item in params.items()}
            result.setdefault(name, []).append(entry)
    return result


def _moment(
    prop: Any, default_zone: tzinfo, zones: dict[str, tzinfo]
) -> tuple[datetime, bool, bool]:
    """(aware datetime, all_day, floating) of a DTSTART/DTEND property."""
    try:
        value = prop.dt
    except (AttributeError, ValueError):  # icalendar keeps unreadable values as vBroken
        value = None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value, False, False
        tzid = prop.params.get("TZID")
        if tzid:
            zone = _zone(str(tzid), zones)
            if zone is None:
                raise ValueError(f"unknown time zone {tzid!r}")
            return value.replace(tzinfo=zone), False, False
        # A "floating" time means local time wherever the calendar is.
        return value.replace(tzinfo=default_zone), False, True
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC), True, False
    raise ValueError(f"not a date or time: {_text(prop)!r}")


def _end(
    event: Any, start: datetime, default_zone: tzinfo, zones: dict[str, tzinfo]
) -> datetime | None:
    if "DTEND" in event:
        return _moment(event["DTEND"], default_zone, zones)[0]
    duration = getattr(event.get("DURATION"), "dt", None)
    return start + duration if isinstance(duration, timedelta) else None


def _geo(event: Any) -> tuple[float | None, float | None]:
    geo = event.get("GEO")
    if geo is None or not hasattr(geo, "latitude"):
        return None, None
    return check_coordinates(float(geo.latitude), float(geo.longitude))


def _zone(tzid: str, zones: dict[str, tzinfo]) -> tzinfo | None:
    """A TZID as the file defines it, else as an IANA or Windows zone name."""
    name = tzid.strip().strip('"')
    if not name:
        return None
    if name in zones:
        return zones[name]
    for candidate in (name, WINDOWS_TO_OLSON.get(name, "")):
        try:
            return ZoneInfo(candidate) if candidate else None
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return None


def _add_zone(block: Block, zones: dict[str, tzinfo]) -> None:
    # A zone that cannot be read is not an error of its own: the events that
    # use it say so ("unknown time zone").
    if block.too_big or block.truncated:
        return
    try:
        component = Timezone.from_ical(block.text())
        if not isinstance(component, Timezone):
            return  # not a VTIMEZONE after all
        zones[str(component["TZID"])] = component.to_tz()
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return


def _calendar_properties(header: list[bytes]) -> dict[str, str]:
    text = b"".join(header).decode("utf-8", errors="replace")
    result: dict[str, str] = {}
    for line in unfold(text):
        name, _, value = line.partition(":")
        key = name.split(";", 1)[0].strip().upper()
        if key in _CALENDAR_KEYS and key not in result:
            result[key] = value.strip().replace("\\,", ",").replace("\\;", ";")
    return result


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # vText, vCalAddress, vBroken: already unescaped
        return str(value)
    try:
        raw = value.to_ical()
    except (ValueError, TypeError, AttributeError):
        return str(value)
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


def _param(value: Any) -> Any:
    return [str(item) for item in value] if isinstance(value, list | tuple) else str(value)


PARSERS: list[Parser] = [
    Parser(product="calendar.ics", matches=matches, parse=parse, sniff=sniff),
]
