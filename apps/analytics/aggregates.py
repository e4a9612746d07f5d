"""Daily time-series over the lake: events per source/kind, media minutes, distance.

Each series has ONE definition (a GROUP BY over a hypertable, below) and is
materialized in one of two ways, chosen when migration 0002 runs:

- a TimescaleDB **continuous aggregate** with a refresh policy, where the
  server carries TimescaleDB's community (TSL) features (the Docker image does);
- a **rollup table** (a hypertable of the same columns) that ``aggregates_refresh``
  recomputes by (user, day range) with the same definition, where the server is
  the Apache-only build (Debian's package, which the local and CI server use:
  it refuses continuous aggregates, compression and job policies). Its refresh
  "policy" is a Celery beat task plus a refresh queued after every import and
  stream write (apps/analytics/receivers.py).

Either way the readers below query the relation by name and always filter by
user: row-level security does not apply to materialized views, so nothing here
hands the raw relation to a caller.

Days are the user's own (apps/core/timezones.py), on both:

- a rollup table holds one row per day (or hour) of the owner's zone: its
  refresh looks the zone up, and a change of zone re-cuts the user's days
  (apps/analytics/receivers.py, queued after commit);
- a continuous aggregate cannot look up each owner's zone (its definition is
  one query for all users, and time_bucket's zone must be a constant), so it
  holds **15-minute buckets in UTC** and the readers add them up into the
  user's days and hours when they read. Every offset in use is a whole number
  of quarter hours (+05:30 India, +05:45 Nepal, +08:45 Eucla, +12:45 Chatham,
  -09:30 Marquesas), so a local midnight or hour always falls on a bucket's
  edge and the sums are exact; a change of zone needs no refresh at all.
  Hourly buckets would be exact only for whole-hour zones, days in UTC only for
  UTC. (Zones' historical local mean times, e.g. +05:53:20 before 1941, are not
  on quarter hours: such days are cut at the quarter hour before.)

The readers below add up buckets by ``time_bucket(width, day, zone)``: on a
rollup table each row is already one of the user's buckets (the sum is the row),
on a continuous aggregate it is the quarter hours of that bucket. The day's
distance is the length of its line of fixes: the quarter hours' lengths plus the
step from each quarter's last fix to the next one's first (first_point,
last_point), within the same day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from apps.core.timezones import day_bounds, zone_of
from apps.lake.metrics import SUMMED_METRICS, choose_stream
from apps.lake.normalize import UNDATED

# Durations when a play or watch does not say how long it lasted (assumptions,
# documented in the README): a typical music track, and a typical YouTube watch.
ASSUMED_PLAY_SECONDS = 210
ASSUMED_WATCH_SECONDS = 600
MEDIA_KINDS = ("spotify.play", "youtube.watch")
# A fix less precise than this would add its error to the distance travelled.
MAX_DISTANCE_ACCURACY_M = 100
# A stated duration longer than this is a paused player, not listening.
MAX_MEDIA_SECONDS = 4 * 3600

MEDIA_SECONDS_SQL = f"""
CASE
  WHEN kind NOT IN ('spotify.play', 'youtube.watch') THEN NULL
  WHEN ended_at > occurred_at
    THEN least(extract(epoch FROM ended_at - occurred_at), {MAX_MEDIA_SECONDS})
  WHEN jsonb_typeof(data -> 'ms_played') = 'number'
    THEN least((data ->> 'ms_played')::numeric / 1000, {MAX_MEDIA_SECONDS})
  WHEN jsonb_typeof(data -> 'duration_ms') = 'number'
    THEN least((data ->> 'duration_ms')::numeric / 1000, {MAX_MEDIA_SECONDS})
  WHEN jsonb_typeof(data -> 'track' -> 'duration_ms') = 'number'
    THEN least((data -> 'track' ->> 'duration_ms')::numeric / 1000, {MAX_MEDIA_SECONDS})
  WHEN kind = 'spotify.play' THEN {ASSUMED_PLAY_SECONDS}
  ELSE {ASSUMED_WATCH_SECONDS}
END
"""


# What a continuous aggregate holds (see the module docstring): a quarter of an hour
# divides every zone's offset, so the user's days are sums of whole buckets.
CONTINUOUS_WIDTH = "15 minutes"


@dataclass(frozen=True)
class Series:
    name: str  # the relation: continuous aggregate or rollup table
    hypertable: str
    time_column: str
    select_sql: str  # "SELECT ... FROM hypertable WHERE {where} GROUP BY ..."
    base_where: str
    columns_sql: str  # the rollup table's columns
    key: tuple[str, ...]  # the rollup table's primary key
    width: str = "1 day"  # the buckets: days, or hours for an hourly series

    def select(self, extra_where: str = "", *, zone_sql: str = "") -> str:
        """The rollup table's definition; ``zone_sql`` an SQL text expression of the
        zone whose midnights (or hours) cut the buckets."""
        where = self.base_where + (f" AND {extra_where}" if extra_where else "")
        return self.select_sql.format(where=where, day=self.day_sql(zone_sql))

    def continuous_select(self) -> str:
        """The continuous aggregate's definition: quarter hours in UTC (module docstring)."""
        day = f"time_bucket('{CONTINUOUS_WIDTH}'::interval, {self.time_column})"
        return self.select_sql.format(where=self.base_where, day=day)

    def day_sql(self, zone_sql: str = "") -> str:
        zone = f", {zone_sql}" if zone_sql else ""
        return f"time_bucket('{self.width}'::interval, {self.time_column}{zone})"

    def bucket_sql(self) -> str:
        """A stored bucket's bucket of the user (zone: the first parameter)."""
        return f"time_bucket('{self.width}'::interval, day, %s)"


def owner_zone_sql(table: str) -> str:
    """The zone of each row's owner (apps/core/timezones.py), for a refresh of all users."""
    default = settings.TIME_ZONE.replace("'", "''")
    return (
        f"coalesce((SELECT zs.time_zone FROM core_usersettings zs "
        f"WHERE zs.user_id = {table}.user_id), '{default}')"
    )


EVENTS_DAILY = Series(
    name="analytics_events_daily",
    hypertable="lake_event",
    time_column="occurred_at",
    select_sql=(
        "SELECT user_id, {day} AS day, source, kind, "
        "count(*) AS events, sum(" + MEDIA_SECONDS_SQL + ")::double precision AS media_seconds "
        "FROM lake_event WHERE {where} GROUP BY user_id, day, source, kind"
    ),
    # Items without a time of their own sit at the "undated" instant: no day of the user's.
    base_where=f"occurred_at > '{UNDATED.isoformat()}'::timestamptz",
    columns_sql=(
        "user_id integer NOT NULL, day timestamptz NOT NULL, source varchar(32) NOT NULL, "
        "kind varchar(64) NOT NULL, events bigint NOT NULL, media_seconds double precision"
    ),
    key=("user_id", "day", "source", "kind"),
)

DISTANCE_DAILY = Series(
    name="analytics_distance_daily",
    hypertable="lake_locationpoint",
    time_column="recorded_at",
    # The day's fixes joined in time order into one line; its length on the
    # spheroid. The step from a day's last fix to the next day's first is not counted.
    # The first and last fix let a reader join a day's quarter hours (module docstring).
    select_sql=(
        "SELECT user_id, {day} AS day, count(*) AS points, "
        "coalesce(ST_Length(ST_MakeLine(point::geometry ORDER BY recorded_at)::geography), 0) "
        "AS distance_m, first(point, recorded_at) AS first_point, "
        "last(point, recorded_at) AS last_point "
        "FROM lake_locationpoint WHERE {where} GROUP BY user_id, day"
    ),
    base_where=f"(accuracy_m IS NULL OR accuracy_m <= {MAX_DISTANCE_ACCURACY_M})",
    columns_sql=(
        "user_id integer NOT NULL, day timestamptz NOT NULL, points bigint NOT NULL, "
        "distance_m double precision NOT NULL, first_point geography(Point, 4326), "
        "last_point geography(Point, 4326)"
    ),
    key=("user_id", "day"),
)

# Health measurements per metric and stream (apps/lake/metrics.py): the sum, the extremes
# and the count, from which a reader takes the sum or the mean of one stream.
_METRICS_SELECT = (
    "SELECT user_id, {day} AS day, metric, stream, sum(value) AS total, min(value) AS low, "
    "max(value) AS high, count(*) AS measurements "
    "FROM lake_healthmetric WHERE {where} GROUP BY user_id, day, metric, stream"
)
_METRICS_COLUMNS = (
    "user_id integer NOT NULL, day timestamptz NOT NULL, metric varchar(64) NOT NULL, "
    "stream varchar(255) NOT NULL, total double precision NOT NULL, "
    "low double precision NOT NULL, high double precision NOT NULL, measurements bigint NOT NULL"
)
METRICS_DAILY = Series(
    name="analytics_metrics_daily",
    hypertable="lake_healthmetric",
    time_column="start",
    select_sql=_METRICS_SELECT,
    base_where="true",
    columns_sql=_METRICS_COLUMNS,
    key=("user_id", "day", "metric", "stream"),
)
# The same measurements in the user's hours.
METRICS_HOURLY = replace(METRICS_DAILY, name="analytics_metrics_hourly", width="1 hour")
METRIC_SERIES = (METRICS_DAILY, METRICS_HOURLY)

SERIES = (EVENTS_DAILY, DISTANCE_DAILY, *METRIC_SERIES)


def timescale_has_community_features() -> bool:
    """Whether the server offers continuous aggregates, compression and policies."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('timescaledb.license', true)")
        return (cursor.fetchone()[0] or "") == "timescale"


def series_is_continuous(series: Series) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM timescaledb_information.continuous_aggregates WHERE view_name = %s",
            [series.name],
        )
        return cursor.fetchone() is not None


def _day_floor(moment: dt.datetime) -> dt.datetime:
    moment = moment.astimezone(dt.UTC)
    return dt.datetime.combine(moment.date(), dt.time.min, tzinfo=dt.UTC)


def aggregates_refresh(
    *,
    user_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> None:
    """Recompute every series for the days in [start, end) (all days when None).

    Idempotent. On a rollup table, only ``user_id``'s rows when given, in one
    transaction per series (readers see the old or the new day, never a gap);
    its days are the owner's days (their time zone, apps/core/timezones.py).
    A continuous aggregate refreshes its whole range for all users (that is how
    TimescaleDB refreshes; it recomputes only invalidated buckets), holds quarter
    hours in UTC that the readers add up into the owner's days (module docstring)
    and must not run inside a transaction.
    """
    # A day of a zone up to 14 hours from UTC overlaps the UTC day on either side.
    lower = _day_floor(start) - dt.timedelta(days=1) if start else None
    upper = _day_floor(end) + dt.timedelta(days=2) if end else None
    for series in SERIES:
        if series_is_continuous(series):
            if connection.in_atomic_block:
                raise RuntimeError("a continuous aggregate cannot refresh inside a transaction")
            with connection.cursor() as cursor:
                cursor.execute(
                    "CALL refresh_continuous_aggregate(%s, %s, %s)", [series.name, lower, upper]
                )
            continue
        # One user's zone is a constant; all users' is looked up per row.
        zone_sql = "%s" if user_id is not None else owner_zone_sql(series.hypertable)
        zone_params: list[Any] = [zone_of(user_id).key] if user_id is not None else []
        # The same days on the rollup's day and on the source's own day: a day is
        # deleted and recomputed whole. The raw time bounds only let TimescaleDB
        # skip chunks (a zone's day lies within a UTC day either side).
        conditions: list[str] = []
        source_conditions: list[str] = []
        params: list[Any] = []
        source_params: list[Any] = []
        if user_id is not None:
            conditions.append("user_id = %s")
            source_conditions.append("user_id = %s")
            params.append(user_id)
            source_params.append(user_id)
        for bound, op, slack in ((lower, ">=", -1), (upper, "<", 1)):
            if bound is not None:
                conditions.append(f"day {op} %s")
                params.append(bound)
                source_conditions.append(f"{series.day_sql(zone_sql)} {op} %s")
                source_params.extend([*zone_params, bound])
                source_conditions.append(f"{series.time_column} {op} %s")
                source_params.append(bound + dt.timedelta(days=slack))
        where_delete = " AND ".join(conditions) or "true"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {series.name} WHERE {where_delete}", params)
            cursor.execute(
                f"INSERT INTO {series.name} "
                + series.select(" AND ".join(source_conditions), zone_sql=zone_sql),
                [*zone_params, *source_params],
            )


def refresh_user_days(*, user_id: int) -> None:
    """All of one user's days again (their time zone changed): queued after commit."""
    from apps.analytics.tasks import refresh_aggregates
    from apps.core.queueing import queue_after_commit

    queue_after_commit(refresh_aggregates, user_id)


# --- readers: always one user's rows ---------------------------------------------


def _rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _range_sql(
    start: dt.date | None, end: dt.date | None, *, user_id: int
) -> tuple[str, list[Any]]:
    """[start, end] as whole days of the user (end inclusive)."""
    conditions: list[str] = []
    params: list[Any] = []
    lower, upper = day_bounds(start, end, zone_of(user_id))
    if lower:
        conditions.append("day >= %s")
        params.append(lower)
    if upper:
        conditions.append("day < %s")
        params.append(upper)
    return "".join(f" AND {c}" for c in conditions), params


# A stored bucket's date in the user's zone: a rollup's day (the instant their day began)
# or a continuous aggregate's quarter hour (which lies within one of their days).
LOCAL_DAY_SQL = "(day AT TIME ZONE %s)::date"


def events_per_day(
    *,
    user_id: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    group_by: str = "kind",
) -> list[dict[str, Any]]:
    """[{day, source|kind, events}] for one user, ordered by day."""
    column = {"kind": "kind", "source": "source"}[group_by]
    where, params = _range_sql(start, end, user_id=user_id)
    return _rows(
        f"SELECT {LOCAL_DAY_SQL} AS day, {column} AS key, sum(events)::bigint AS events "
        f"FROM {EVENTS_DAILY.name} WHERE user_id = %s{where} "
        f"GROUP BY 1, {column} ORDER BY 1, {column}",
        [zone_of(user_id).key, user_id, *params],
    )


def media_minutes_per_day(
    *, user_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """[{day, key (kind), minutes}] of listening and watching for one user."""
    where, params = _range_sql(start, end, user_id=user_id)
    return _rows(
        f"SELECT {LOCAL_DAY_SQL} AS day, kind AS key, "
        "round((sum(media_seconds) / 60)::numeric, 1)::float "
        f"AS minutes FROM {EVENTS_DAILY.name} WHERE user_id = %s AND media_seconds IS NOT NULL"
        f"{where} GROUP BY 1, kind ORDER BY 1, kind",
        [zone_of(user_id).key, user_id, *params],
    )


def distance_per_day(
    *, user_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """[{day, km, points}] for one user: each day's buckets' lengths plus the steps
    between consecutive buckets of that day (none on a rollup table's one row a day)."""
    where, params = _range_sql(start, end, user_id=user_id)
    zone = zone_of(user_id).key
    bucket = DISTANCE_DAILY.bucket_sql()
    return _rows(
        f"WITH buckets AS (SELECT {bucket} AS local_day, points, distance_m, first_point, "
        f"lag(last_point) OVER stored AS previous_last, lag({bucket}) OVER stored AS previous_day "
        f"FROM {DISTANCE_DAILY.name} WHERE user_id = %s{where} WINDOW stored AS (ORDER BY day)) "
        "SELECT (local_day AT TIME ZONE %s)::date AS day, round(((sum(distance_m) + coalesce("
        "sum(ST_Distance(previous_last, first_point)) FILTER (WHERE previous_day = local_day), 0)"
        ") / 1000)::numeric, 2)::float AS km, sum(points)::bigint AS points "
        "FROM buckets GROUP BY local_day ORDER BY local_day",
        [zone, zone, user_id, *params, zone],
    )


def series_span(*, user_id: int) -> tuple[dt.date, dt.date] | None:
    """The first and last day any series has for the user (the dashboard's default range)."""
    rows = _rows(
        "SELECT (min(day) AT TIME ZONE %s)::date AS first, "
        "(max(day) AT TIME ZONE %s)::date AS last FROM ("
        f"SELECT day FROM {EVENTS_DAILY.name} WHERE user_id = %s UNION ALL "
        f"SELECT day FROM {DISTANCE_DAILY.name} WHERE user_id = %s) days",
        [zone_of(user_id).key, zone_of(user_id).key, user_id, user_id],
    )
    first, last = rows[0]["first"], rows[0]["last"]
    return (first, last) if first else None


def metric_rollup(
    *,
    user_id: int,
    metric: str,
    stream: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    bucket: str = "day",
) -> list[dict[str, Any]]:
    """[{bucket, value, min, max, measurements}] of one stream of ``metric`` from its daily
    or hourly series: what ``apps.lake.metrics.metric_series`` computes from the
    hypertable, as of the last refresh."""
    series = METRICS_DAILY if bucket == "day" else METRICS_HOURLY
    where, params = _range_sql(start, end, user_id=user_id)
    value = "sum(total)" if metric in SUMMED_METRICS else "sum(total) / sum(measurements)"
    zone = zone_of(user_id)
    rows = _rows(
        f"SELECT {series.bucket_sql()} AS bucket, {value} AS value, min(low) AS min, "
        f"max(high) AS max, sum(measurements)::bigint AS measurements FROM {series.name} "
        f"WHERE user_id = %s AND metric = %s AND stream = %s{where} GROUP BY 1 ORDER BY 1",
        [zone.key, user_id, metric, stream, *params],
    )
    for row in rows:
        local = row["bucket"].astimezone(zone)
        row["bucket"] = local.date() if bucket == "day" else local
    return rows


def metric_streams(*, user_id: int, metric: str) -> dict[str, int]:
    """{stream: measurements} of ``metric`` for the user, from the daily series."""
    return {
        r["stream"]: int(r["n"])
        for r in _rows(
            f"SELECT stream, sum(measurements) AS n FROM {METRICS_DAILY.name} "
            "WHERE user_id = %s AND metric = %s GROUP BY stream",
            [user_id, metric],
        )
    }


# The timeline's line of a day: which metrics.
DAY_SUMMARY_METRICS = ("steps", "distance", "active_minutes")


def daily_summaries(
    *, user_id: int, start: dt.date | None = None, end: dt.date | None = None
) -> dict[dt.date, dict[str, float]]:
    """{day: {metric: total}} of the user's days in [start, end] (inclusive, either open)
    for the timeline's summary rows, each metric from its preferred stream, read from the
    daily series (refreshed after every import and a change of zone)."""
    days: dict[dt.date, dict[str, float]] = {}
    for metric in DAY_SUMMARY_METRICS:
        stream = choose_stream(metric, metric_streams(user_id=user_id, metric=metric))
        if stream is None:
            continue
        for row in metric_rollup(
            user_id=user_id, metric=metric, stream=stream, start=start, end=end
        ):
            days.setdefault(row["bucket"], {})[metric] = row["value"]
    return days
