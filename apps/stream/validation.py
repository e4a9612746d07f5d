"""What a client may send to the ingest endpoint, checked field by field.

The rules a value follows (times, coordinates) are the normalizer's
(apps/lake/normalize.py); this module applies them to JSON from outside and
collects every problem, each with its field and, in a batch, the event's index,
so one 400 answer lists all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apps.lake.normalize import (
    RESERVED_DATA_KEYS,
    InvalidValue,
    check_coordinates,
    parse_timestamp,
)
from apps.lake.takeout.records import EventRecord, Provenance

# One request stores at most this many events, in one transaction: large enough
# for a phone flushing a day offline, small enough to answer within a second.
MAX_BATCH = 500

KIND = re.compile(r"[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+")
SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
LIMITS = {"kind": 64, "source": 64, "title": 1_000, "text": 100_000, "url": 4_096}
FIELDS = (
    "kind",
    "occurred_at",
    "ended_at",
    "title",
    "text",
    "url",
    "latitude",
    "longitude",
    "data",
    "source",
)
# A clock a little ahead is normal; an event days in the future is a client bug.
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str
    index: int | None = None  # the event's position in a batch

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.index is not None:
            found["index"] = self.index
        return found


class IngestInvalid(Exception):
    """The request holds events that break the rules; nothing of it is stored."""

    def __init__(self, errors: list[FieldError], summary: str):
        super().__init__(summary)
        self.errors = errors
        self.summary = summary


def events_from_payload(
    payload: Any, *, connector: str, received_at: datetime
) -> list[EventRecord]:
    """Records for a JSON body: one event (an object) or a batch (an array, or an
    object with ``events``). Raises IngestInvalid listing every bad field."""
    batch: list[Any]
    if isinstance(payload, list):
        batch, indexed = payload, True
    elif isinstance(payload, dict) and "events" in payload:
        if set(payload) != {"events"}:
            extra = ", ".join(sorted(set(payload) - {"events"}))
            raise IngestInvalid(
                [FieldError(extra, "unknown field next to events; put it in each event")],
                "The request is not a batch Datapunk understands.",
            )
        if not isinstance(payload["events"], list):
            raise IngestInvalid(
                [FieldError("events", "must be a list of event objects")],
                "The request is not a batch Datapunk understands.",
            )
        batch, indexed = payload["events"], True
    elif isinstance(payload, dict):
        batch, indexed = [payload], False
    else:
        raise IngestInvalid(
            [FieldError("(body)", "must be an event object or a list of event objects")],
            "The request is neither an event nor a batch of events.",
        )
    if not batch:
        raise IngestInvalid(
            [FieldError("events", "is empty: send at least one event")], "Nothing to store."
        )
    if len(batch) > MAX_BATCH:
        raise IngestInvalid(
            [
                FieldError(
                    "events", f"holds {len(batch)} events; send at most {MAX_BATCH} a request"
                )
            ],
            "The batch is too large.",
        )
    records: list[EventRecord] = []
    errors: list[FieldError] = []
    for index, item in enumerate(batch):
        record, problems = _event(item, connector=connector, received_at=received_at)
        errors.extend(FieldError(p.field, p.message, index if indexed else None) for p in problems)
        if record is not None:
            records.append(record)
    if errors:
        bad = len({e.index for e in errors})
        summary = (
            f"{bad} of {len(batch)} events are invalid; nothing was stored."
            if indexed
            else "The event is invalid; nothing was stored."
        )
        raise IngestInvalid(errors, summary)
    return records


def _event(
    item: Any, *, connector: str, received_at: datetime
) -> tuple[EventRecord | None, list[FieldError]]:
    if not isinstance(item, dict):
        return None, [FieldError("(event)", "must be an object with kind and occurred_at")]
    errors: list[FieldError] = []
    for name in sorted(set(item) - set(FIELDS)):
        errors.append(FieldError(str(name), "unknown field; put your own fields inside data"))

    def text(name: str, *, required: bool = False) -> str:
        value = item.get(name)
        if value is None:
            if required:
                errors.append(FieldError(name, "is required"))
            return ""
        if not isinstance(value, str):
            errors.append(FieldError(name, "must be a string"))
            return ""
        if len(value) > LIMITS[name]:
            errors.append(FieldError(name, f"is longer than {LIMITS[name]} characters"))
        return value

    def moment(name: str, *, required: bool = False) -> datetime | None:
        value = item.get(name)
        if value is None:
            if required:
                errors.append(FieldError(name, "is required: an ISO 8601 time or Unix seconds"))
            return None
        try:
            found = parse_timestamp(value, field=name, keep_offset=True)
        except InvalidValue as exc:
            errors.append(FieldError(exc.field, exc.message))
            return None
        if found > received_at + FUTURE_TOLERANCE:
            errors.append(FieldError(name, "is more than a day in the future"))
        return found

    kind = text("kind", required=True)
    if kind and not KIND.fullmatch(kind):
        errors.append(
            FieldError(
                "kind",
                "must look like product.action in lowercase letters, digits, _ and -, "
                'e.g. "mood.logged"',
            )
        )
    source = text("source")
    if source and not SOURCE.fullmatch(source):
        errors.append(FieldError("source", "may hold letters, digits, _, - and . only"))
    title, body, url = text("title"), text("text"), text("url")
    occurred_at = moment("occurred_at", required=True)
    ended_at = moment("ended_at")
    if occurred_at and ended_at and ended_at < occurred_at:
        errors.append(FieldError("ended_at", "is before occurred_at"))

    latitude, longitude = item.get("latitude"), item.get("longitude")
    if (latitude is None) != (longitude is None):
        missing = "longitude" if longitude is None else "latitude"
        errors.append(FieldError(missing, "is required when the other coordinate is given"))
    else:
        # Each on its own (the other as a valid 0), so both can be reported.
        for pair in ((latitude, 0.0), (0.0, longitude)):
            try:
                check_coordinates(*pair)
            except InvalidValue as exc:
                errors.append(FieldError(exc.field, exc.message))

    data = item.get("data", {})
    if not isinstance(data, dict):
        errors.append(FieldError("data", "must be an object"))
    else:
        for key in sorted(RESERVED_DATA_KEYS & set(data)):
            errors.append(FieldError(f"data.{key}", "is a name Datapunk keeps for itself"))

    if errors:
        return None, errors
    assert occurred_at is not None  # required: an error otherwise
    return (
        EventRecord(
            kind=kind,
            occurred_at=occurred_at,
            ended_at=ended_at,
            title=title,
            text=body,
            url=url,
            latitude=latitude,
            longitude=longitude,
            data=data,
            provenance=Provenance(
                source=source or "ingest", connector=connector, received_at=received_at
            ),
        ),
        [],
    )
