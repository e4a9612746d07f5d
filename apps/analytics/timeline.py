"""The timeline: a user's events across every source, newest first, page by page.

Pages are cut by a keyset cursor on (occurred_at, id), never by OFFSET, so the
millionth event costs what the first does: the query walks the index
analytics_event_user_time (user_id, occurred_at DESC, id DESC) from the cursor
and stops after one page (see scripts/bench_timeline.py and its test).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from apps.analytics.aggregates import daily_summaries
from apps.analytics.filters import EventFilters, FilterError, apply_event_filters, fts_match_sql
from apps.analytics.search.fulltext import newest_text_matches
from apps.analytics.search.hybrid import vector_matches
from apps.core.timezones import zone_of
from apps.lake.models import Event
from apps.privacy.fields import pointer_part
from apps.privacy.pii.on_screen import marks_for_owner
from apps.privacy.redaction import redact_event_payloads

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
EVENT_FIELDS = (
    "id",
    "source",
    "kind",
    "occurred_at",
    "ended_at",
    "title",
    "text",
    "url",
    "location",
    "data",
)


@dataclass(frozen=True)
class Cursor:
    occurred_at: dt.datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.occurred_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Read a cursor a previous page handed out; FilterError if it is not one."""
        try:
            padded = token + "=" * (-len(token) % 4)
            moment, _, ident = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
            occurred_at = dt.datetime.fromisoformat(moment)
            if occurred_at.tzinfo is None:
                raise ValueError
            return cls(occurred_at=occurred_at, id=int(ident))
        except (ValueError, UnicodeError, binascii.Error):
            raise FilterError("cursor: not a cursor this API handed out") from None


@dataclass(frozen=True)
class TimelinePage:
    events: list[dict[str, Any]]
    next_cursor: str | None


def page_size_from(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise FilterError(f"limit: give a number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def events_before(queryset: QuerySet[Event], cursor: Cursor) -> QuerySet[Event]:
    """Rows strictly after ``cursor`` in newest-first order, as one row comparison
    (the form PostgreSQL turns into an index range on (occurred_at, id)). The plain
    bound on occurred_at is redundant for the rows but lets TimescaleDB skip every
    chunk newer than the cursor, which it cannot infer from a row comparison."""
    return queryset.filter(occurred_at__lte=cursor.occurred_at).filter(
        RawSQL(
            '("lake_event"."occurred_at", "lake_event"."id") < (%s, %s)',
            [cursor.occurred_at, cursor.id],
            output_field=BooleanField(),
        )
    )


def timeline_queryset(
    *, user: Any, filters: EventFilters, cursor: Cursor | None = None, limit: int | None = None
) -> QuerySet[Event]:
    """``user``'s events matching ``filters``, newest first, after ``cursor``.

    ``q`` is answered by the search engine's rule of what matches (as /search/ and
    GET /api/search/): the events with the query's words (full-text) and those close
    enough in meaning (apps/analytics/search/hybrid.py ``vector_matches``: at most
    its 50 nearest), shown here in time order.

    ``limit`` (the rows the caller will take) lets a search by words alone read just
    one page of matches from the full-text index and then those events by id and
    time (constants, so TimescaleDB reads only their chunks). With other filters too
    the matches are joined in whole (apply_event_filters): a page of matches might
    not hold a page of rows that pass the other filters.
    """
    if not filters.query:
        return _filtered(user, filters, cursor)
    by_meaning = vector_matches(user_id=user.pk, query=filters.query, filters=filters)
    if cursor is not None:
        by_meaning = [(e, t) for e, t in by_meaning if (t, e) < (cursor.occurred_at, cursor.id)]
    if limit is not None and _only_words(filters):
        by_words = newest_text_matches(
            filters.query,
            limit=limit,
            before=(cursor.occurred_at, cursor.id) if cursor is not None else None,
        )
        # The newest ``limit`` of both lists: a page of the union (keyset order).
        found = sorted(
            {(m.occurred_at, m.event_id) for m in by_words} | {(t, e) for e, t in by_meaning},
            reverse=True,
        )[:limit]
        return Event.objects.filter(
            user=user,
            id__in=[event_id for _, event_id in found],
            occurred_at__in=sorted({moment for moment, _ in found}),
        ).order_by("-occurred_at", "-id")
    queryset = apply_event_filters(Event.objects.filter(user=user), replace(filters, query=""))
    queryset = queryset.filter(
        Q(fts_match_sql(filters.query)) | Q(id__in=[event_id for event_id, _ in by_meaning])
    )
    if cursor is not None:
        queryset = events_before(queryset, cursor)
    return queryset.order_by("-occurred_at", "-id")


def _filtered(user: Any, filters: EventFilters, cursor: Cursor | None) -> QuerySet[Event]:
    queryset = apply_event_filters(Event.objects.filter(user=user), filters)
    if cursor is not None:
        queryset = events_before(queryset, cursor)
    return queryset.order_by("-occurred_at", "-id")


def _only_words(filters: EventFilters) -> bool:
    return replace(filters, query="", echo={}).is_empty


def event_payload(event: Event) -> dict[str, Any]:
    location = event.location
    return {
        "id": event.id,
        "source": event.source,
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "ended_at": event.ended_at.isoformat() if event.ended_at else None,
        "title": event.title,
        "text": event.text,
        "url": event.url,
        "location": {"lat": location.y, "lon": location.x} if location is not None else None,
        "data": event.data,
    }


def timeline_page(
    *,
    user: Any,
    filters: EventFilters,
    cursor: Cursor | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    for_owner_page: bool = False,
) -> TimelinePage:
    """One page of ``user``'s events matching ``filters``, redacted in one call; or, for
    the owner's own pages, as they are with their PII marked (apps/privacy/pii/on_screen.py)."""
    rows = list(
        timeline_queryset(user=user, filters=filters, cursor=cursor, limit=limit + 1).only(
            *EVENT_FIELDS
        )[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    shown = marks_for_owner if for_owner_page else redact_event_payloads
    payloads = shown(user_id=user.pk, payloads=[event_payload(e) for e in rows])
    next_cursor = (
        Cursor(occurred_at=rows[-1].occurred_at, id=rows[-1].id).encode() if more else None
    )
    return TimelinePage(events=payloads, next_cursor=next_cursor)


@dataclass(frozen=True)
class DataLeaf:
    """One value inside ``Event.data``: its path (as PII findings name it) and the value."""

    path: str
    value: Any

    @property
    def is_text(self) -> bool:
        return isinstance(self.value, str)


def data_leaves(data: Any, prefix: str = "data") -> list[DataLeaf]:
    """Every value inside ``data`` in order, named like findings' fields (apps/privacy/fields.py)."""
    if isinstance(data, dict):
        return [
            leaf
            for key, value in data.items()
            for leaf in data_leaves(value, f"{prefix}/{pointer_part(key)}")
        ]
    if isinstance(data, list):
        return [
            leaf for i, value in enumerate(data) for leaf in data_leaves(value, f"{prefix}/{i}")
        ]
    return [DataLeaf(prefix, data)]


def event_for_owner_page(*, user: Any, event_id: int) -> dict[str, Any]:
    """One of ``user``'s events as their detail page shows it: as it is, PII marked,
    with ``leaves`` (its data's values). Raises Event.DoesNotExist for another's event."""
    event = Event.objects.filter(user=user, id=event_id).only(*EVENT_FIELDS).get()
    [payload] = marks_for_owner(user_id=user.pk, payloads=[event_payload(event)])
    return {**payload, "leaves": data_leaves(payload["data"]) if payload["data"] else []}


def summary_text(totals: dict[str, float]) -> str:
    """ "3,952 steps · 2.7 km · 51 move min" (what the day has of those)."""
    parts = []
    if "steps" in totals:
        parts.append(f"{round(totals['steps']):,} steps")
    if "distance" in totals:
        parts.append(f"{totals['distance'] / 1000:.1f} km")
    if "active_minutes" in totals:
        parts.append(f"{round(totals['active_minutes'])} move min")
    return " · ".join(parts)


@dataclass(frozen=True)
class TimelineDay:
    """One day of a timeline page: its summary line of health measurements (steps,
    distance, move minutes) and its events, newest first."""

    day: dt.date | None  # None: the undated items
    summary: str
    events: list[dict[str, Any]]


def _event_day(payload: dict[str, Any], zone: dt.tzinfo) -> dt.date | None:
    if payload["occurred_at"].startswith(UNDATED_PREFIX):
        return None
    return dt.datetime.fromisoformat(payload["occurred_at"]).astimezone(zone).date()


UNDATED_PREFIX = "1970-01-01T00:00:00"


def timeline_days(
    *, user_id: int, page: TimelinePage, filters: EventFilters, cursor: Cursor | None
) -> list[TimelineDay]:
    """The page's events grouped by the user's days, each day with one summary row of its
    measurements (apps/lake/metrics.py) instead of one row per measurement. Without
    filters, days that have measurements and no event are shown too: those between
    the page's first and last day (all older ones on the last page)."""
    zone = zone_of(user_id)
    grouped: dict[dt.date | None, list[dict[str, Any]]] = {}
    for payload in page.events:
        grouped.setdefault(_event_day(payload, zone), []).append(payload)
    dated = [day for day in grouped if day is not None]
    newest = cursor.occurred_at.astimezone(zone).date() if cursor is not None else None
    oldest = min(dated) if page.next_cursor and dated else None
    if page.next_cursor and not dated:
        return [TimelineDay(day, "", events) for day, events in grouped.items()]
    summaries = daily_summaries(user_id=user_id, start=oldest, end=newest)
    if filters.is_empty:
        for day in summaries:
            grouped.setdefault(day, [])
    ordered = sorted(grouped, key=lambda day: (day is not None, day or dt.date.min), reverse=True)
    return [
        TimelineDay(day, summary_text(summaries.get(day, {})) if day else "", grouped[day])
        for day in ordered
    ]
