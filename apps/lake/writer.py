"""The one batch writer: normalized rows into the lake, one transaction per batch.

``BatchWriter`` owns the batch's transaction and its checkpoint; the writes by kind
live in apps/lake/batch/ (points: a binary COPY streamed into the hypertable;
events: staging, ON CONFLICT, upserts, history matching; places and visits) and
in apps/lake/metrics.py (health measurements), and run inside it. The database
decides what is a duplicate. One flush is one transaction that also advances the
caller's checkpoint: a crash loses at most the batch in flight, and a resumed run
skips exactly what was committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from psycopg.errors import UniqueViolation

from apps.core.db.roles import bulk_role
from apps.core.timezones import day_bounds, zone_of
from apps.lake.batch.events import EventBatch
from apps.lake.batch.places import PlaceBatch
from apps.lake.batch.points import PointBatch
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
    event_row,
    location_row,
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
    """Collects one source's records for one user and writes them in batches: the one
    owner of the batch's transaction, for points, events, places, visits and health
    measurements alike (apps/lake/batch/ writes each kind inside it).

    Location points and measurements stream into an open binary COPY as they are
    added, so PostgreSQL stores a batch while the parser is still reading it; the rest
    is written at ``flush``. Use it as a context manager: leaving the block with an
    exception rolls back the batch in flight.

    Not thread-safe; one per archive member or stream batch. ``entry_id`` tags every
    row so a failed member can be rolled back as a whole.
    """

    def __init__(self, *, user_id: int, source: str, entry_id: int | None = None):
        self.user_id = user_id
        self.source = source
        self.entry_id = entry_id
        self._points = PointBatch(user_id=user_id, begin=self._cursor_in_batch)
        self._events = EventBatch(user_id=user_id, source=source, entry_id=entry_id)
        self._places = PlaceBatch(user_id=user_id, entry_id=entry_id)
        self._metrics: list[MetricRecord] = []  # health measurements (apps/lake/metrics.py)
        self._bad: list[BadRecord] = []
        self._others = 0  # events, places, visits and bad records in this batch
        self._transaction: ExitStack | None = None  # the batch's transaction, open while collecting
        self._cursor: CursorWrapper | None = None
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
        """The batch is as large as it should be: flush it (``add`` says so too)."""
        return (
            len(self._points.rows) + len(self._metrics) >= POINT_BATCH
            or self._others >= OTHER_BATCH
        )

    def add(self, record: Record) -> bool:
        """Take ``record`` into the batch; True when the batch is full (flush now)."""
        try:
            if type(record) is LocationRecord:
                # The hot path, once per point: one tuple, one COPY row, one comparison.
                if self._metric_copy is not None:
                    self._close_metric_copy()
                size = self._points.add(location_row(record, self.user_id, self.entry_id))
                return size + len(self._metrics) >= POINT_BATCH
            if type(record) is EventRecord:
                self._events.add(event_row(record))
            elif type(record) is VisitRecord:
                self._places.visits.append(visit_row(record))
            elif type(record) is PlaceRecord:
                self._places.places.append(place_row(record))
            elif type(record) is MetricRecord:
                if record.local_day is not None or record.local_time:
                    record = self._in_users_zone(record)
                metric_check(record)
                self._metrics.append(record)
                if not self._metric_duplicates_seen and not self._points.streaming:
                    self._stream_metric(record)
                return self.full
            elif type(record) is BadRecord:
                self._bad.append(record)
            else:
                raise TypeError(f"not a record: {type(record).__name__}")
        except (ValueError, TypeError) as exc:
            self._bad.append(
                BadRecord(reason=f"cannot normalize: {exc}", excerpt=repr(record)[:500])
            )
        self._others += 1
        return self.full

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

    def _stream_metric(self, record: MetricRecord) -> None:
        if len(self._metrics) - 1 != self._metrics_streamed:
            return  # earlier ones were not streamed: the flush writes them all in order
        copy = self._metric_copy if self._metric_copy is not None else self._open_metric_copy()
        copy.write_row(copy_row(record, self.user_id, self.entry_id))
        self._metrics_streamed += 1

    def _open_metric_copy(self) -> Copy:
        cursor = self._cursor_in_batch()
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

    def _cursor_in_batch(self) -> CursorWrapper:
        """The batch's cursor, its transaction opened first unless it is open."""
        if self._transaction is None:
            self._transaction = ExitStack()
            self._transaction.enter_context(transaction.atomic())
            self._cursor = self._transaction.enter_context(connection.cursor())
        assert self._cursor is not None  # set together with the transaction
        return self._cursor

    def abort(self, exc_type=None, exc=None, tb=None) -> None:
        """Roll back the batch in flight; what earlier flushes committed stays."""
        error = exc or RuntimeError("batch aborted")
        try:
            self._points.abort(error, tb)
        except Exception:
            logger.debug("error while rolling back a batch", exc_info=True)
        for scope in (self._metric_copy_scope, self._transaction):
            if scope is not None:
                try:
                    scope.__exit__(type(error), error, tb)
                except Exception:
                    logger.debug("error while rolling back a batch", exc_info=True)
        self._transaction = self._cursor = None
        self._metric_copy_scope = self._metric_copy = None
        self._reset()

    def _reset(self) -> None:
        self._points.reset()
        self._events.reset()
        self._places.reset()
        self._bad, self._others = [], 0
        self._metrics, self._metrics_streamed = [], 0

    def flush(self, on_commit_update: Callable[[FlushResult], None] | None = None) -> FlushResult:
        """Finish the batch in one transaction.

        ``on_commit_update`` runs inside that transaction with the result,
        for the caller to advance its checkpoint atomically with the rows.
        """
        result = FlushResult()
        try:
            cursor = self._cursor_in_batch()
            scope = self._transaction
            assert scope is not None
            self._close_metric_copy()  # before any other statement on the connection
            points = self._points.rows
            if points:
                written = self._points.write(cursor)
                result.written += written
                result.duplicate += len(points) - written
            events = self._events
            if events.rows:
                result.stored_events = events.write(cursor)
                result.event_ids = [event_id for event_id, _ in result.stored_events]
                written = len(result.event_ids)
                result.written += written
                result.duplicate += len(events.rows) + events.merged - written
            if self._metrics:
                written = self._write_metrics(cursor)
                result.written += written
                result.duplicate += len(self._metrics) - written
            places = self._places
            if places.places:
                written = places.write_places(cursor)
                result.written += written
                result.duplicate += len(places.places) - written
            if places.visits:
                written = places.write_visits(cursor)
                result.written += written
                result.duplicate += len(places.visits) - written
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
