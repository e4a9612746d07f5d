"""Writing and reading health measurements (apps/lake/metric_models.py).

``metrics_write`` takes a batch of ``MetricRow`` for one user: a binary COPY
into a session staging table, then one INSERT ... SELECT into the hypertable
that skips what is already stored (the key: user, metric, stream, start, end),
so a re-import of the same export, or an overlapping export, adds nothing.

One truth per metric: Google Fit writes one quantity in several overlapping
streams, and a total over all of them counts the same steps two or three
times. ``PREFERRED_STREAMS`` names, per metric, the stream that totals come
from (the first one present for the user wins); the other streams stay stored
and can be read by naming them.

| metric | preferred stream (first present) | why |
|---|---|---|
| steps | ``derived:com.google.step_count.delta:com.google.android.gms:estimated_steps`` | the stream that reproduces Google's own "Daily activity metrics" step count on every day; ``merge_step_deltas`` and device streams overlap it |
| distance | ``derived:com.google.distance.delta:com.google.android.gms:merge_distance_delta`` | Fit's merge of all distance sources |
| calories | ``derived:com.google.calories.expended:com.google.android.gms:merge_calories_expended`` | Fit's merge, includes the resting rate |
| active_minutes | ``derived:com.google.active_minutes:com.google.android.gms:merge_active_minutes`` | Fit's merge |
| heart_rate | ``derived:com.google.heart_rate.bpm:com.google.android.gms:merge_heart_rate_bpm`` | Fit's merge; min/avg/max are not sums, so any one stream is safe |
| weight | ``derived:com.google.weight:com.google.android.gms:merge_weight`` | Fit's merge |

A metric without a preferred stream present falls back to the stream with the
most measurements (one stream, never a sum over several).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from psycopg.errors import UniqueViolation

from apps.core.db.roles import bulk_role
from apps.core.timezones import day_bounds, zone_of
from apps.lake.takeout.records import MetricRecord

PREFERRED_STREAMS: dict[str, tuple[str, ...]] = {
    "steps": ("derived:com.google.step_count.delta:com.google.android.gms:estimated_steps",),
    "distance": ("derived:com.google.distance.delta:com.google.android.gms:merge_distance_delta",),
    "calories": (
        "derived:com.google.calories.expended:com.google.android.gms:merge_calories_expended",
    ),
    "active_minutes": (
        "derived:com.google.active_minutes:com.google.android.gms:merge_active_minutes",
    ),
    "heart_rate": (
        "derived:com.google.heart_rate.bpm:com.google.android.gms:merge_heart_rate_bpm",
    ),
    "weight": ("derived:com.google.weight:com.google.android.gms:merge_weight",),
}
# Metrics whose day is a sum of its measurements; the others (heart rate, weight) are levels.
SUMMED_METRICS = frozenset({"steps", "distance", "calories", "active_minutes", "sleep_minutes"})

COLUMNS = 'user_id, metric, start, "end", value, unit, stream, entry_id, value_text'
_STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS lake_stage_metric (
  user_id integer, metric varchar(64), start timestamptz, "end" timestamptz,
  value double precision, unit varchar(16), stream varchar(255), entry_id bigint,
  value_text text
)
"""
# Duplicates inside one batch too: DISTINCT ON the key keeps the first.
_MOVE = f"""
INSERT INTO lake_healthmetric ({COLUMNS})
SELECT DISTINCT ON (user_id, metric, stream, start, "end") {COLUMNS} FROM lake_stage_metric
ON CONFLICT (user_id, metric, stream, start, "end") DO NOTHING
"""
METRIC_TYPES = [
    "int4",
    "varchar",
    "timestamptz",
    "timestamptz",
    "float8",
    "varchar",
    "varchar",
    "int8",
    "text",
]
# A number's text longer than this is not a measurement (and would bloat the table).
MAX_TEXT = 64


class MetricError(ValueError):
    """A measurement that cannot be stored; the message is written for the user."""


MetricRow = MetricRecord


def metric_check(row: MetricRecord) -> None:
    """MetricError (a message for the user) when ``row`` cannot be stored."""
    if row.start.tzinfo is None or row.end.tzinfo is None:
        raise MetricError(f"{row.metric}: a time without a time zone")
    if row.end < row.start:
        raise MetricError(f"{row.metric}: ends before it starts")
    if row.value != row.value or row.value in (float("inf"), float("-inf")):
        raise MetricError(f"{row.metric}: not a number")
    if not row.metric or len(row.metric) > 64 or len(row.unit) > 16 or len(row.stream) > 255:
        raise MetricError(f"{row.metric[:40]!r}: metric, unit or stream name too long")
    if row.text is not None and len(row.text) > MAX_TEXT:
        raise MetricError(f"{row.metric}: a number of more than {MAX_TEXT} characters")


def copy_row(row: MetricRecord, user_id: int, entry_id: int | None) -> tuple:
    """``row`` as the COPY writes it (in ``COLUMNS`` order)."""
    return (
        user_id,
        row.metric,
        row.start,
        row.end,
        row.value,
        row.unit,
        row.stream,
        entry_id,
        row.text,
    )


def metrics_copy(
    cursor: Any, *, user_id: int, entry_id: int | None, rows: list[MetricRecord]
) -> int:
    """Inside the caller's transaction: binary COPY ``rows`` into staging, move the new
    ones into the hypertable; returns how many were new. Rows already checked."""
    cursor.execute(_STAGING_DDL)
    cursor.execute("DELETE FROM lake_stage_metric")
    with cursor.cursor.copy(
        f"COPY lake_stage_metric ({COLUMNS}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(METRIC_TYPES)
        for row in rows:
            copy.write_row(copy_row(row, user_id, entry_id))
    cursor.execute(_MOVE)
    stored = cursor.rowcount
    cursor.execute("DELETE FROM lake_stage_metric")
    return stored


def metrics_copy_direct(
    cursor: Any, *, user_id: int, entry_id: int | None, rows: list[MetricRecord]
) -> bool:
    """A first import's fast path: one binary COPY straight into the hypertable, as the
    bulk role (COPY FROM is refused under row-level security; apps/privacy/rls.py), in a
    savepoint. False, with nothing written, when a row is stored already (or twice in
    ``rows``): the caller then goes through ``metrics_copy``."""
    try:
        with transaction.atomic(), bulk_role(cursor, user_id=user_id):
            raw = cursor.cursor
            with raw.copy(f"COPY lake_healthmetric ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(METRIC_TYPES)
                write = copy.write_row
                for row in rows:
                    write(copy_row(row, user_id, entry_id))
        return True
    except UniqueViolation:
        return False


def metrics_write(
    *, user_id: int, rows: Iterable[MetricRecord], entry_id: int | None = None
) -> int:
    """Store ``rows`` of ``user_id`` (inside their user_context); returns how many were new.
    A bad row refuses the whole batch (MetricError) before anything is written.
    Imports go through the lake's BatchWriter (apps/lake/writer.py), which calls
    ``metrics_copy`` in its own batch transaction."""
    batch = list(rows)
    for row in batch:
        metric_check(row)
    if not batch:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        return metrics_copy(cursor, user_id=user_id, entry_id=entry_id, rows=batch)


def _rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def preferred_stream(*, user_id: int, metric: str) -> str | None:
    """The one stream ``metric``'s totals come from for this user (see the table above)."""
    counts = {
        r["stream"]: r["n"]
        for r in _rows(
            "SELECT stream, count(*) AS n FROM lake_healthmetric WHERE user_id = %s AND metric = %s "
            "GROUP BY stream",
            [user_id, metric],
        )
    }
    return choose_stream(metric, counts)


def choose_stream(metric: str, counts: dict[str, int]) -> str | None:
    """Of the streams a user has of ``metric`` (with their numbers of measurements), the
    one its totals come from: the first preferred one present, else the fullest."""
    # Fit names a stream "derived:<type>:<app>:<name>"; its All Data file "derived_..._...".
    by_key = {stream.replace(":", "_"): stream for stream in counts}
    for stream in PREFERRED_STREAMS.get(metric, ()):
        if stream.replace(":", "_") in by_key:
            return by_key[stream.replace(":", "_")]
    return max(counts, key=lambda s: (counts[s], s)) if counts else None


BUCKETS = {"day": "1 day", "hour": "1 hour"}


def metric_series(
    *,
    user_id: int,
    metric: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    bucket: str = "day",
    stream: str | None = None,
) -> list[dict[str, Any]]:
    """[{bucket, value, min, max, measurements, text}] of one stream of ``metric`` (the
    preferred one unless named), in buckets of the user's zone; ``value`` the sum for
    summed metrics, the mean otherwise; ``text``, for a bucket of one measurement, that
    measurement's number as its source wrote it (None for a computed one). A
    measurement counts in the bucket where it starts."""
    if bucket not in BUCKETS:
        raise MetricError("bucket: day or hour")
    stream = stream or preferred_stream(user_id=user_id, metric=metric)
    if stream is None:
        return []
    zone = zone_of(user_id)
    conditions, bounds = _days_sql(start, end, zone)
    params: list[Any] = [BUCKETS[bucket], zone.key, user_id, metric, stream, *bounds]
    value = "sum(value)" if metric in SUMMED_METRICS else "avg(value)"
    rows = _rows(
        f"SELECT time_bucket(%s::interval, start, %s) AS bucket, {value} AS value, "
        "min(value) AS min, max(value) AS max, count(*) AS measurements, "
        "CASE WHEN count(*) = 1 THEN min(value_text) END AS text "
        f"FROM lake_healthmetric WHERE user_id = %s AND metric = %s AND stream = %s{conditions} "
        "GROUP BY 1 ORDER BY 1",
        params,
    )
    for row in rows:
        local = row["bucket"].astimezone(zone)
        row["bucket"] = local.date() if bucket == "day" else local
    return rows


def _days_sql(start: dt.date | None, end: dt.date | None, zone) -> tuple[str, list[Any]]:
    """The SQL conditions (and their parameters) of measurements starting on the days
    from ``start`` to ``end`` of ``zone``, either end open when None."""
    lower, upper = day_bounds(start, end, zone)
    conditions, params = "", []
    if lower:
        conditions += " AND start >= %s"
        params.append(lower)
    if upper:
        conditions += " AND start < %s"
        params.append(upper)
    return conditions, params


MAX_MEASUREMENTS_PAGE = 5_000


def metric_measurements(
    *,
    user_id: int,
    metric: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    stream: str | None = None,
    after: tuple[dt.datetime, int] | None = None,
    limit: int = 1_000,
) -> list[dict[str, Any]]:
    """The measurements themselves of one stream of ``metric`` (the preferred one unless
    named), oldest first from after ``after`` (a (start, id) of the previous page), at
    most ``limit``: id, start, end, value (the double), text (the number as its source
    wrote it; None when Datapunk computed it), unit, stream. Days are the user's."""
    stream = stream or preferred_stream(user_id=user_id, metric=metric)
    if stream is None:
        return []
    conditions, bounds = _days_sql(start, end, zone_of(user_id))
    params: list[Any] = [user_id, metric, stream, *bounds]
    if after:
        # The plain bound beside the row comparison lets TimescaleDB skip older chunks.
        conditions += " AND start >= %s AND (start, id) > (%s, %s)"
        params.extend([after[0], after[0], after[1]])
    params.append(max(1, min(limit, MAX_MEASUREMENTS_PAGE)))
    return _rows(
        'SELECT id, start, "end", value, value_text AS text, unit, stream FROM lake_healthmetric '
        f"WHERE user_id = %s AND metric = %s AND stream = %s{conditions} "
        "ORDER BY start, id LIMIT %s",
        params,
    )
