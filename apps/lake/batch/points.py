"""A batch's location points: one binary COPY straight into the hypertable, streamed
while the batch is collected, so PostgreSQL stores it while the parser reads on.

Only when the COPY meets a stored point (a re-import, an overlapping export) is the
batch redone through a staging table with ON CONFLICT DO NOTHING; first imports (nearly
all rows new) thus cost what a raw COPY costs. The transaction is the BatchWriter's
(apps/lake/writer.py): this opens a savepoint in it, so a duplicate undoes the COPY only.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.db import transaction
from django.db.backends.utils import CursorWrapper
from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from psycopg.errors import UniqueViolation
from psycopg.types.string import BytesBinaryDumper

from apps.core.db.roles import bulk_role

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
"""
_MOVE_POINTS = f"""
INSERT INTO lake_locationpoint ({POINT_COLUMNS})
SELECT {POINT_COLUMNS} FROM lake_stage_point
ON CONFLICT DO NOTHING
"""
# See writer._CLEAR_EVENT_STAGE: a batch inside an outer transaction commits nothing.
_CLEAR_POINT_STAGE = "DELETE FROM lake_stage_point"


class PointBatch:
    """The points of one batch of one user: ``add`` streams, ``write`` finishes.

    ``begin`` is the transaction owner's: it opens the batch's transaction (once) and
    returns its cursor.
    """

    def __init__(self, *, user_id: int, begin: Callable[[], CursorWrapper]):
        self.user_id = user_id
        self._begin = begin
        self.rows: list[tuple] = []  # kept for the redo through staging
        self._scope: ExitStack | None = None  # savepoint + bulk role + COPY
        self._copy: Copy | None = None
        self._write_row: Callable[[tuple], None] | None = None
        self._duplicates_seen = False  # this batch goes through staging

    @property
    def streaming(self) -> bool:
        """A COPY is open on the connection (one at a time: others wait for ``close``)."""
        return self._copy is not None

    def add(self, row: tuple) -> int:
        """Queue ``row`` (a normalize.location_row tuple); returns the batch's size."""
        rows = self.rows
        rows.append(row)
        if not self._duplicates_seen:
            try:
                write = self._write_row if self._write_row is not None else self._open()
                write(row)
            except UniqueViolation as exc:
                self.close(exc)
        return len(rows)

    def _open(self) -> Callable[[tuple], None]:
        cursor = self._begin()
        self._scope = scope = ExitStack()
        scope.enter_context(transaction.atomic())  # a savepoint: a duplicate undoes only the COPY
        # COPY FROM is refused under row-level security: it runs as the insert-only
        # bulk role, for this batch's user only (apps/core/db/roles.py).
        scope.enter_context(bulk_role(cursor, user_id=self.user_id))
        self._copy = copy = scope.enter_context(_point_copy(cursor.cursor, "lake_locationpoint"))
        copy.set_types(_POINT_TYPES)
        self._write_row = copy.write_row
        return copy.write_row

    def close(self, error: BaseException | None = None) -> bool:
        """End the COPY; True when it stored the batch, False when a duplicate undid it."""
        scope, self._scope, self._copy, self._write_row = self._scope, None, None, None
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

    def write(self, cursor: CursorWrapper) -> int:
        """Inside the owner's transaction: store the batch; returns how many were new."""
        if not self.rows:
            return 0
        if self.close():
            return len(self.rows)
        cursor.execute(_STAGING_DDL)
        cursor.execute(_CLEAR_POINT_STAGE)
        with _point_copy(cursor.cursor, "lake_stage_point") as copy:
            copy.set_types(_POINT_TYPES)
            for row in self.rows:
                copy.write_row(row)
        cursor.execute(_MOVE_POINTS)
        return cursor.rowcount

    def abort(self, error: BaseException, tb: Any) -> None:
        """Undo the COPY's savepoint (the owner rolls back its transaction)."""
        scope, self._scope, self._copy, self._write_row = self._scope, None, None, None
        if scope is not None:
            scope.__exit__(type(error), error, tb)

    def reset(self) -> None:
        self.rows = []
        self._duplicates_seen = False
