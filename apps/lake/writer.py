"""The one batch writer: normalized rows into the lake with COPY.

Rows are COPied into session-local staging tables, then moved into the
real tables with INSERT ... ON CONFLICT DO NOTHING, so the database decides
what is a duplicate. One flush is one transaction that also advances the
caller's checkpoint: a crash loses at most the batch in flight, and a resumed
run skips exactly what was committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from psycopg.errors import UniqueViolation
from psycopg.types.string import BytesBinaryDumper

from apps.core import advisory_locks
from apps.core.db.roles import bulk_role
from apps.core.timezones import day_bounds, zone_of
from apps.lake.metrics import COLUMNS as METRIC_COLUMNS
from apps.lake.metrics import (
    METRIC_TYPES,
    copy_row,
    metric_check,
    metrics_copy,
    metrics_copy_direct,
)
from apps.lake.models import Quarantine
from apps.lake.normalize import (
    EventRow,
    PlaceRow,
    VisitRow,
    event_row,
    location_row,
    merge_event_rows,
    place_row,
    visit_row,
)
from apps.lake.takeout.records import (
    BadRecord,
    EventRecord,
    LocationRecord,
    MetricRecord,
    PlaceRecord,
    Record,
    VisitRecord,
)

logger = logging.getLogger(__name__)

# Location points are tiny and come by the million: large batches amortise
# the per-statement cost. Events carry JSON and text: smaller batches.
POINT_BATCH = 50_000
OTHER_BATCH = 5_000

# Points go straight into the hypertable with a binary COPY; only when that
# batch hits a duplicate is it redone through a staging table with ON CONFLICT.
# First imports (nearly all rows new) thus cost what a raw COPY costs.
POINT_COLUMNS = "recorded_at, point, accuracy_m, altitude_m, velocity_mps, heading_deg, source, data, user_id, entry_id"
_POINT_TYPES = [
    "timestamptz",
    "bytea",
    "float8",
    "float8",
    "float8",
    "float8",
    "text",
    "bytea",
    "int4",
    "int8",
]


def _point_copy(raw_cursor, table: str) -> Any:
    """The binary COPY of points into ``table``, set up for the hot path.

    psycopg.dbapi20 registers a Python dumper for bytea (to unwrap Binary());
    the points' EWKB and jsonb are plain bytes, so this cursor alone gets the
    C dumper back: two Python calls less per point. The queued writer sends
    in a thread, so the parser goes on while the socket waits for PostgreSQL.
    """
    raw_cursor.adapters.register_dumper(bytes, BytesBinaryDumper)
    return raw_cursor.copy(
        f"COPY {table} ({POINT_COLUMNS}) FROM STDIN (FORMAT BINARY)",
        writer=QueuedLibpqWriter(raw_cursor),
    )


_STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS lake_stage_point (
    recorded_at timestamptz, point geography(Point, 4326), accuracy_m float8, altitude_m float8,
    velocity_mps float8, heading_deg float8, source text, data jsonb, user_id int4, entry_id int8
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS lake_stage_event (
    kind text, occurred_at timestamptz, ended_at timestamptz, title text, text text, url text,
    lon float8, lat float8, data jsonb, content_hash bytea, history_format text,
    merge_list text, version_key text
) ON COMMIT DELETE ROWS;
"""

_MOVE_POINTS = f"""
INSERT INTO lake_locationpoint ({POINT_COLUMNS})
SELECT {POINT_COLUMNS} FROM lake_stage_point
ON CONFLICT DO NOTHING
"""

_MOVE_EVENTS = """
INSERT INTO lake_event
    (user_id, source, kind, occurred_at, ended_at, title, text, url, location, data, content_hash, entry_id)
SELECT %s, %s, kind, occurred_at, ended_at, title, text, url,
       CASE WHEN lon IS NULL OR lat IS NULL THEN NULL
            ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography END,
       data, content_hash, %s
FROM lake_stage_event
WHERE merge_list IS NULL AND version_key IS NULL
ON CONFLICT DO NOTHING
RETURNING id, content_hash, occurred_at
"""

# Items that change between exports (see EventRecord.merge_list, .version_key)
# are upserted: the unique key still decides what is the same item, and the
# row takes what is new. xmax = 0 marks a row this statement inserted.
_UPSERT_EVENTS = """
INSERT INTO lake_event
    (user_id, source, kind, occurred_at, ended_at, title, text, url, location, data, content_hash, entry_id)
SELECT %(user_id)s, %(source)s, kind, occurred_at, ended_at, title, text, url,
       CASE WHEN lon IS NULL OR lat IS NULL THEN NULL
            ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography END,
       data, content_hash, %(entry_id)s
FROM lake_stage_event
WHERE {column} = %(key)s
ON CONFLICT (user_id, content_hash, occurred_at) DO UPDATE SET {update}
RETURNING id, content_hash, occurred_at, (xmax = 0)
"""
# The lists united (each entry once, in order); nothing to do when nothing is new.
_UNITE_LISTS = """
    data = jsonb_set(lake_event.data, ARRAY[%(key)s], (
        SELECT COALESCE(jsonb_agg(DISTINCT entry ORDER BY entry), '[]')
        FROM jsonb_array_elements(
            COALESCE(lake_event.data -> %(key)s, '[]') || COALESCE(EXCLUDED.data -> %(key)s, '[]')
        ) entry))
WHERE NOT COALESCE(lake_event.data -> %(key)s, '[]') @> COALESCE(EXCLUDED.data -> %(key)s, '[]')
"""
# The newest version's fields; every other version (one per version number)
# in data.history, oldest first. Nothing to do for a version already known.
_NEWER = "COALESCE((EXCLUDED.data ->> %(key)s)::numeric, 0) > COALESCE((lake_event.data ->> %(key)s)::numeric, 0)"
_KEEP_VERSIONS = f"""
    title = CASE WHEN {_NEWER} THEN EXCLUDED.title ELSE lake_event.title END,
    text = CASE WHEN {_NEWER} THEN EXCLUDED.text ELSE lake_event.text END,
    url = CASE WHEN {_NEWER} THEN EXCLUDED.url ELSE lake_event.url END,
    ended_at = CASE WHEN {_NEWER} THEN EXCLUDED.ended_at ELSE lake_event.ended_at END,
    location = CASE WHEN {_NEWER} THEN EXCLUDED.location ELSE lake_event.location END,
    data = (CASE WHEN {_NEWER} THEN EXCLUDED.data ELSE lake_event.data END - 'history')
        || jsonb_build_object('history', (
            SELECT COALESCE(jsonb_agg(version ORDER BY number), '[]') FROM (
                SELECT DISTINCT ON (COALESCE((version ->> %(key)s)::numeric, 0))
                       version, COALESCE((version ->> %(key)s)::numeric, 0) AS number
                FROM jsonb_array_elements(
                    COALESCE(lake_event.data -> 'history', '[]')
                    || COALESCE(EXCLUDED.data -> 'history', '[]')
                    || jsonb_build_array(lake_event.data - 'history', EXCLUDED.data - 'history')
                ) version
            ) versions
            WHERE number <> GREATEST(
                COALESCE((EXCLUDED.data ->> %(key)s)::numeric, 0),
                COALESCE((lake_event.data ->> %(key)s)::numeric, 0))
        ))
WHERE (EXCLUDED.data ->> %(key)s) IS DISTINCT FROM (lake_event.data ->> %(key)s)
    AND NOT COALESCE(lake_event.data -> 'history', '[]')
        @> jsonb_build_array(jsonb_build_object(%(key)s, EXCLUDED.data -> %(key)s))
"""
_UPSERTS = {
    "merge_list": _UPSERT_EVENTS.format(column="merge_list", update=_UNITE_LISTS),
    "version_key": _UPSERT_EVENTS.format(column="version_key", update=_KEEP_VERSIONS),
}


# History items (My Activity, YouTube) come as JSON (exact times) or HTML
# (whole seconds, other fields) from separate exports. One item is one row:
# same kind, same link (or, without one, same title), same second. The
# database cannot say "same second" in a unique key (a hypertable's unique
# keys hold the exact time), so a user's history batches take a transaction
# lock of theirs and match within it; no other writer adds history rows meanwhile.
_HISTORY_LOCK_NAMESPACE = advisory_locks.HISTORY_BATCH
# A row read from HTML still has the page's time text; JSON times are ISO 8601.
_SAME_HISTORY_ITEM = """
    e.user_id = %(user_id)s AND e.kind = s.kind AND e.url = s.url
    AND (s.url <> '' OR e.title = s.title)
"""
_FROM_HTML = r"NOT (e.data->>'time' ~ '^\d{4}-\d\d-\d\dT')"
# JSON arriving: it takes over the HTML-born row of its second (exact time,
# JSON's fields and identity; the HTML card kept under "html"). The chunk is
# the same: both times lie in one second, and chunks start at whole seconds.
# One HTML row per item, and none when the JSON row exists already (both were
# stored before this matching existed): those stay as they are, no conflict.
_HISTORY_JSON_TAKES_OVER = f"""
UPDATE lake_event e SET
    occurred_at = m.occurred_at, title = m.title, text = m.text, url = m.url,
    data = m.data || jsonb_build_object('html', e.data), content_hash = m.content_hash
FROM (
    SELECT DISTINCT ON (s.content_hash, s.occurred_at)
           s.*, e.id AS html_id, e.occurred_at AS html_at
    FROM lake_stage_event s JOIN lake_event e ON {_SAME_HISTORY_ITEM}
        AND e.occurred_at = date_trunc('second', s.occurred_at) AND {_FROM_HTML}
    WHERE s.history_format = 'json' AND NOT EXISTS (
        SELECT 1 FROM lake_event j WHERE j.user_id = %(user_id)s
        AND j.content_hash = s.content_hash AND j.occurred_at = s.occurred_at
    )
    ORDER BY s.content_hash, s.occurred_at, e.id
) m
WHERE e.user_id = %(user_id)s AND e.id = m.html_id AND e.occurred_at = m.html_at
"""
# HTML arriving: nothing to add if the item is stored already, from either format.
_HISTORY_HTML_KNOWN = f"""
DELETE FROM lake_stage_event s
WHERE s.history_format = 'html' AND EXISTS (
    SELECT 1 FROM lake_event e WHERE {_SAME_HISTORY_ITEM}
    AND e.occurred_at >= s.occurred_at AND e.occurred_at < s.occurred_at + interval '1 second'
)
"""


# ON COMMIT DELETE ROWS empties the staging tables when a batch commits; a
# batch written inside an outer transaction (a test, a caller's atomic block)
# commits nothing, so each batch empties them before use as well.
_CLEAR_POINT_STAGE = "DELETE FROM lake_stage_point"
_CLEAR_EVENT_STAGE = "DELETE FROM lake_stage_event"


# A stream's few events (a webhook, an ingest request) go in with one statement;
# staging and COPY pay off only for larger batches (imports, syncs).
SMALL_EVENT_BATCH = 200

_INSERT_EVENTS = """
INSERT INTO lake_event
    (user_id, source, kind, occurred_at, ended_at, title, text, url, location, data, content_hash, entry_id)
SELECT %s, %s, kind, occurred_at, ended_at, title, text, url,
       CASE WHEN lon IS NULL OR lat IS NULL THEN NULL
            ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography END,
       data::jsonb, content_hash, %s
FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::text[], %s::text[],
            %s::float8[], %s::float8[], %s::text[], %s::bytea[])
     AS r(kind, occurred_at, ended_at, title, text, url, lon, lat, data, content_hash)
ON CONFLICT DO NOTHING
RETURNING id, content_hash, occurred_at
"""


def _event_tuple(e: EventRow) -> tuple:
    """An event row in the column order of staging and of _INSERT_EVENTS' arrays."""
    return (
        e.kind,
        e.occurred_at,
        e.ended_at,
        e.title,
        e.text,
        e.url,
        e.longitude,
        e.latitude,
        e.data_json,
        e.content_hash,
    )


def _point_sql(lon_lat: tuple[float | None, float | None]) -> str | None:
    lon, lat = lon_lat
    return None if lon is None or lat is None else f"SRID=4326;POINT({lon!r} {lat!r})"


@dataclass(slots=True)
class FlushResult:
    written: int = 0
    duplicate: int = 0
    quarantined: int = 0
    # Ids of the events this flush inserted (not accumulated by ``add``: an
    # import of millions of events keeps no list of them).
    event_ids: list[int] = field(default_factory=list)
    # The same events with their rows, for the live feed (same lifetime as event_ids).
    stored_events: list[tuple[int, EventRow]] = field(default_factory=list)

    def add(self, other: FlushResult) -> None:
        self.written += other.written
        self.duplicate += other.duplicate
        self.quarantined += other.quarantined


class BatchWriter:
    """Collects one source's records for one user and writes them in batches.

    Location points stream into an open binary COPY as they are added, so
    PostgreSQL stores a batch while the parser is still reading it; the rest
    is written at ``flush``. Use it as a context manager: leaving the block
    with an exception rolls back the batch in flight.

    Not thread-safe; one per archive member or stream batch. ``entry_id``
    tags every row so a failed member can be rolled back as a whole.
    """

    def __init__(self, *, user_id: int, source: str, entry_id: int | None = None):
        self.user_id = user_id
        self.source = source
        self.entry_id = entry_id
        self._points: list[tuple] = []
        self._events: list[EventRow] = []
        self._visits: list[VisitRow] = []
        self._places: list[PlaceRow] = []
        self._metrics: list[MetricRecord] = []  # health measurements (apps/lake/metrics.py)
        self._bad: list[BadRecord] = []
        # Upserted events of this batch by (content_hash, occurred_at): one
        # statement may not touch a row twice, so the batch merges them first.
        self._upserted: dict[tuple[bytes, object], int] = {}
        self._merged = 0
        self._transaction: ExitStack | None = None  # the batch's transaction, open while collecting
        self._copy_scope: ExitStack | None = None  # savepoint + COPY into the hypertable
        self._copy: Copy | None = None
        self._cursor: CursorWrapper | None = None
        self._duplicates_seen = False  # this batch's points go through staging
        self._zone: ZoneInfo | None = None  # the user's, for measurements of whole days
        self._metric_duplicates_seen = False  # for the writer's life: measurements via staging
        # Measurements stream into a COPY of their own while no point COPY is open (one
        # COPY at a time per connection); the first ``_metrics_streamed`` went that way.
        self._metric_copy_scope: ExitStack | None = None
        self._metric_copy: Copy | None = None
        self._metrics_streamed = 0

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort(exc_type, exc, tb)

    @property
    def full(self) -> bool:
        # Asked once per record: the points (nearly every record) decide alone.
        if len(self._points) >= POINT_BATCH:
            return True
        others = len(self._events) + len(self._visits) + len(self._places) + len(self._bad)
        return len(self._points) + len(self._metrics) >= POINT_BATCH or others >= OTHER_BATCH

    def add(self, record: Record) -> None:
        try:
            if type(record) is MetricRecord:
                if record.local_day is not None or record.local_time:
                    record = self._in_users_zone(record)
                metric_check(record)
                self._metrics.append(record)
                if not self._metric_duplicates_seen and self._copy is None:
                    self._stream_metric(record)
            elif type(record) is LocationRecord:
                self._add_point(location_row(record, self.user_id, self.entry_id))
            elif type(record) is EventRecord:
                row = event_row(record)
                if row.merge_list or row.version_key:
                    self._add_upserted(row)
                else:
                    self._events.append(row)
            elif type(record) is VisitRecord:
                self._visits.append(visit_row(record))
            elif type(record) is PlaceRecord:
                self._places.append(place_row(record))
            elif type(record) is BadRecord:
                self._bad.append(record)
            else:
                raise TypeError(f"not a record: {type(record).__name__}")
        except (ValueError, TypeError) as exc:
            self._bad.append(
                BadRecord(reason=f"cannot normalize: {exc}", excerpt=repr(record)[:500])
            )

    def _in_users_zone(self, record: MetricRecord) -> MetricRecord:
        """A whole day of the person's calendar: [midnight, next midnight) of the user's
        zone; wall-clock times (``local_time``): those times in the user's zone."""
        if self._zone is None:
            self._zone = zone_of(self.user_id)
        if record.local_day is not None:
            start, end = day_bounds(record.local_day, record.local_day, self._zone)
            assert start is not None and end is not None
        else:
            # fold=0 (the naive times' default): an hour repeated at the end of summer
            # time is read as its first pass, as PostgreSQL reads such a local time.
            start, end = (
                record.start.replace(tzinfo=self._zone),
                record.end.replace(tzinfo=self._zone),
            )
        return replace(record, start=start, end=end, local_day=None, local_time=False)

    def _add_upserted(self, row: EventRow) -> None:
        key = (row.content_hash, row.occurred_at)
        index = self._upserted.get(key)
        if index is None:
            self._upserted[key] = len(self._events)
            self._events.append(row)
        else:
            self._events[index] = merge_event_rows(self._events[index], row)
            self._merged += 1

    def _stream_metric(self, record: MetricRecord) -> None:
        if len(self._metrics) - 1 != self._metrics_streamed:
            return  # earlier ones were not streamed: the flush writes them all in order
        copy = self._metric_copy if self._metric_copy is not None else self._open_metric_copy()
        copy.write_row(copy_row(record, self.user_id, self.entry_id))
        self._metrics_streamed += 1

    def _open_metric_copy(self) -> Copy:
        _, cursor = self._begin()
        # Held by the writer before anything can fail: abort() then closes the savepoint.
        self._metric_copy_scope = scope = ExitStack()
        scope.enter_context(transaction.atomic())  # a savepoint: a duplicate undoes the COPY
        scope.enter_context(bulk_role(cursor, user_id=self.user_id))
        raw = cursor.cursor
        copy = scope.enter_context(
            raw.copy(
                f"COPY lake_healthmetric ({METRIC_COLUMNS}) FROM STDIN (FORMAT BINARY)",
                writer=QueuedLibpqWriter(raw),
            )
        )
        copy.set_types(METRIC_TYPES)
        self._metric_copy = copy
        return copy

    def _close_metric_copy(self) -> None:
        """End the measurements' COPY; when a stored one undid it, nothing of it stays
        and the flush writes every measurement of the batch through staging."""
        scope, self._metric_copy_scope, self._metric_copy = self._metric_copy_scope, None, None
        if scope is None:
            return
        try:
            scope.close()
        except UniqueViolation:
            self._metrics_streamed = 0
            self._metric_duplicates_seen = True

    def _add_point(self, row: tuple) -> None:
        self._points.append(row)
        if self._metric_copy is not None:
            self._close_metric_copy()
        if self._duplicates_seen:
            return
        try:
            copy = self._copy if self._copy is not None else self._open_copy()
            copy.write_row(row)
        except UniqueViolation as exc:
            self._close_copy(exc)

    def _begin(self) -> tuple[ExitStack, CursorWrapper]:
        """Open the batch's transaction unless it is open; return it and its cursor."""
        if self._transaction is None:
            self._transaction = ExitStack()
            self._transaction.enter_context(transaction.atomic())
            self._cursor = self._transaction.enter_context(connection.cursor())
        assert self._cursor is not None  # set together with the transaction
        return self._transaction, self._cursor

    def _open_copy(self) -> Copy:
        _, cursor = self._begin()
        self._copy_scope = ExitStack()
        self._copy_scope.enter_context(
            transaction.atomic()
        )  # a savepoint: a duplicate undoes only the COPY
        # COPY FROM is refused under row-level security: it runs as the insert-only
        # bulk role, for this writer's user only (apps/core/db/roles.py).
        self._copy_scope.enter_context(bulk_role(cursor, user_id=self.user_id))
        self._copy = copy = self._copy_scope.enter_context(
            _point_copy(cursor.cursor, "lake_locationpoint")
        )
        copy.set_types(_POINT_TYPES)
        return copy

    def _close_copy(self, error: BaseException | None = None) -> bool:
        """End the COPY; True when it stored the batch, False when a duplicate undid it."""
        scope, self._copy_scope, self._copy = self._copy_scope, None, None
        if scope is None:
            return False
        if error is None:
            try:
                scope.close()
                return True
            except UniqueViolation as exc:
                error = exc
        try:
            scope.__exit__(type(error), error, error.__traceback__)
        except UniqueViolation:
            pass
        self._duplicates_seen = True
        return False

    def abort(self, exc_type=None, exc=None, tb=None) -> None:
        """Roll back the batch in flight; what earlier flushes committed stays."""
        error = exc or RuntimeError("batch aborted")
        for scope in (self._copy_scope, self._metric_copy_scope, self._transaction):
            if scope is not None:
                try:
                    scope.__exit__(type(error), error, tb)
                except Exception:
                    logger.debug("error while rolling back a batch", exc_info=True)
        self._copy_scope = self._transaction = self._copy = self._cursor = None
        self._metric_copy_scope = self._metric_copy = None
        self._reset()

    def _reset(self) -> None:
        self._points, self._events, self._visits, self._places, self._bad = [], [], [], [], []
        self._metrics, self._metrics_streamed = [], 0
        self._upserted, self._merged = {}, 0
        self._duplicates_seen = False

    def flush(self, on_commit_update: Callable[[FlushResult], None] | None = None) -> FlushResult:
        """Finish the batch in one transaction.

        ``on_commit_update`` runs inside that transaction with the result,
        for the caller to advance its checkpoint atomically with the rows.
        """
        result = FlushResult()
        try:
            scope, cursor = self._begin()
            self._close_metric_copy()  # before any other statement on the connection
            if self._points:
                if self._close_copy():
                    written = len(self._points)
                else:
                    written = self._write_points_with_conflicts(cursor)
                result.written += written
                result.duplicate += len(self._points) - written
            if self._events:
                result.stored_events = self._write_events(cursor)
                result.event_ids = [event_id for event_id, _ in result.stored_events]
                written = len(result.event_ids)
                result.written += written
                result.duplicate += len(self._events) + self._merged - written
            if self._metrics:
                written = self._write_metrics(cursor)
                result.written += written
                result.duplicate += len(self._metrics) - written
            if self._places:
                written = self._write_places(cursor)
                result.written += written
                result.duplicate += len(self._places) - written
            if self._visits:
                written = self._write_visits(cursor)
                result.written += written
                result.duplicate += len(self._visits) - written
            if self._bad:
                Quarantine.objects.bulk_create(
                    Quarantine(
                        user_id=self.user_id,
                        entry_id=self.entry_id,
                        source=self.source,
                        reason=bad.reason,
                        excerpt=bad.excerpt.replace("\x00", ""),
                    )
                    for bad in self._bad
                )
                result.quarantined += len(self._bad)
            if on_commit_update is not None:
                on_commit_update(result)
        except BaseException as exc:
            self.abort(type(exc), exc, exc.__traceback__)
            raise
        self._transaction = self._cursor = None
        scope.close()  # commits
        self._reset()
        return result

    def _write_metrics(self, cursor) -> int:
        """Straight into the hypertable (streamed while collecting, the rest in one COPY)
        until a batch meets a stored measurement; from then on (a re-import, an
        overlapping export) through staging, which skips them."""
        self._close_metric_copy()
        streamed = self._metrics_streamed
        rest = self._metrics[streamed:]
        if not rest:
            return streamed
        if not self._metric_duplicates_seen:
            if metrics_copy_direct(cursor, user_id=self.user_id, entry_id=self.entry_id, rows=rest):
                return streamed + len(rest)
            self._metric_duplicates_seen = True
        return streamed + metrics_copy(
            cursor, user_id=self.user_id, entry_id=self.entry_id, rows=rest
        )

    def _write_points_with_conflicts(self, cursor) -> int:
        cursor.execute(_STAGING_DDL)
        cursor.execute(_CLEAR_POINT_STAGE)
        with _point_copy(cursor.cursor, "lake_stage_point") as copy:
            copy.set_types(_POINT_TYPES)
            for row in self._points:
                copy.write_row(row)
        cursor.execute(_MOVE_POINTS)
        return cursor.rowcount

    def _write_events(self, cursor) -> list[tuple[int, EventRow]]:
        """Insert the batch's events; returns (id, row) of each row stored anew."""
        if len(self._events) <= SMALL_EVENT_BATCH and not any(
            e.history_format or e.merge_list or e.version_key for e in self._events
        ):
            cursor.execute(
                _INSERT_EVENTS,
                [
                    self.user_id,
                    self.source,
                    self.entry_id,
                    *(
                        list(column)
                        for column in zip(*(_event_tuple(e) for e in self._events), strict=True)
                    ),
                ],
            )
            stored = cursor.fetchall()
        else:
            stored = self._stage_and_move_events(cursor)
        # The database's dedupe key (content hash, time) names which rows were inserted.
        rows = {(e.content_hash, e.occurred_at): e for e in reversed(self._events)}
        return [
            (event_id, rows[(bytes(digest), occurred_at)])
            for event_id, digest, occurred_at in stored
        ]

    def _stage_and_move_events(self, cursor) -> list[tuple[int, bytes, Any]]:
        """Larger batches, and items matched across exports: through staging.
        Returns (id, content_hash, occurred_at) of each row inserted."""
        cursor.execute(_STAGING_DDL)
        cursor.execute(_CLEAR_EVENT_STAGE)
        with cursor.cursor.copy(
            "COPY lake_stage_event (kind, occurred_at, ended_at, title, text, url, lon, lat, data,"
            " content_hash, history_format, merge_list, version_key) FROM STDIN"
        ) as copy:
            for e in self._events:
                copy.write_row(
                    (
                        *_event_tuple(e),
                        e.history_format or None,
                        e.merge_list or None,
                        e.version_key or None,
                    )
                )
        if any(e.history_format for e in self._events):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_HISTORY_LOCK_NAMESPACE, self.user_id]
            )
            # Statistics of this batch, so that both statements look up the
            # events by their index (user, kind, time) rather than scan them.
            cursor.execute("ANALYZE lake_stage_event")
            cursor.execute(_HISTORY_JSON_TAKES_OVER, {"user_id": self.user_id})
            cursor.execute(_HISTORY_HTML_KNOWN, {"user_id": self.user_id})
        cursor.execute(_MOVE_EVENTS, [self.user_id, self.source, self.entry_id])
        inserted = list(cursor.fetchall())
        for column, sql in _UPSERTS.items():
            for key in sorted({getattr(e, column) for e in self._events} - {""}):
                cursor.execute(
                    sql,
                    {
                        "user_id": self.user_id,
                        "source": self.source,
                        "entry_id": self.entry_id,
                        "key": key,
                    },
                )
                inserted.extend(
                    (event_id, digest, occurred_at)
                    for event_id, digest, occurred_at, new in cursor.fetchall()
                    if new
                )
        return inserted

    def _write_places(self, cursor) -> int:
        """Upsert the places; returns how many were new (the rest merged into known ones)."""
        return self._upsert_places(
            cursor,
            [
                (
                    p.place_id,
                    p.name,
                    p.address,
                    p.semantic_type,
                    p.longitude,
                    p.latitude,
                    p.data_json,
                )
                for p in self._places
            ],
        )

    def _upsert_places(self, cursor, places: list[tuple]) -> int:
        """Upsert (place_id, name, address, semantic_type, lon, lat, data_json) rows;
        returns how many were inserted rather than merged into a known place."""
        # A place seen again keeps what it knew; new non-empty facts win.
        # xmax = 0 marks a row this statement inserted rather than updated.
        raw = cursor.cursor
        raw.executemany(
            """
            INSERT INTO lake_place
                (user_id, place_id, name, address, semantic_type, location, data, entry_id)
            VALUES (%s, %s, %s, %s, %s, %s::geography, %s, %s)
            ON CONFLICT (user_id, place_id) DO UPDATE SET
                name = COALESCE(NULLIF(EXCLUDED.name, ''), lake_place.name),
                address = COALESCE(NULLIF(EXCLUDED.address, ''), lake_place.address),
                semantic_type = COALESCE(NULLIF(EXCLUDED.semantic_type, ''), lake_place.semantic_type),
                location = COALESCE(lake_place.location, EXCLUDED.location),
                data = lake_place.data || EXCLUDED.data
            RETURNING (xmax = 0)
            """,
            [
                (
                    self.user_id,
                    place_id,
                    name,
                    address,
                    semantic_type,
                    _point_sql((longitude, latitude)),
                    data_json,
                    self.entry_id,
                )
                for place_id, name, address, semantic_type, longitude, latitude, data_json in places
            ],
            returning=True,
        )
        inserted = 0
        while True:
            inserted += sum(1 for (new,) in raw.fetchall() if new)
            if not raw.nextset():
                return inserted

    def _write_visits(self, cursor) -> int:
        # A visit's place is known by what the visit says of it; it adds no data.
        named = [
            (v.place_id, v.name, v.address, v.semantic_type, v.longitude, v.latitude, "{}")
            for v in self._visits
            if v.place_id
        ]
        if named:
            self._upsert_places(cursor, named)
        written = 0
        for v in self._visits:
            cursor.execute(
                """
                INSERT INTO lake_visit (user_id, place_id, started_at, ended_at, location, confidence,
                                        data, content_hash, entry_id)
                VALUES (%s, (SELECT id FROM lake_place WHERE user_id = %s AND place_id = %s),
                        %s, %s, %s::geography, %s, %s, %s, %s)
                ON CONFLICT DO NOTHING
                """,
                [
                    self.user_id,
                    self.user_id,
                    v.place_id,
                    v.started_at,
                    v.ended_at,
                    _point_sql((v.longitude, v.latitude)),
                    v.confidence,
                    v.data_json,
                    v.content_hash,
                    self.entry_id,
                ],
            )
            written += cursor.rowcount
        return written


def rollback_entries(entry_ids: list[int]) -> None:
    """Delete every row the given archive members wrote (a failed member, a rejected archive)."""
    if not entry_ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            "lake_locationpoint",
            "lake_event",
            "lake_healthmetric",
            "lake_visit",
            "lake_quarantine",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE entry_id = ANY(%s)", [entry_ids])
        # After the visits: a place those members created goes unless a visit kept uses it.
        cursor.execute(
            """
            DELETE FROM lake_place p WHERE p.entry_id = ANY(%s)
            AND NOT EXISTS (SELECT 1 FROM lake_visit v WHERE v.place_id = p.id)
            """,
            [entry_ids],
        )
