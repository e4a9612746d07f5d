"""The daily series of apps/analytics/aggregates.py: continuous aggregates where the
server has TimescaleDB's community features, rollup hypertables otherwise.

Not atomic: TimescaleDB refuses to create a continuous aggregate inside a transaction.
"""

import logging

from django.db import DatabaseError, migrations

logger = logging.getLogger(__name__)


def _continuous(cursor, series) -> bool:
    try:
        cursor.execute(
            f"CREATE MATERIALIZED VIEW {series.name} "
            "WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS "
            f"{series.continuous_select()} WITH NO DATA"
        )
        # start_offset NULL: every bucket, so an import of years-old history is
        # picked up too (a refresh recomputes only invalidated buckets).
        cursor.execute(
            "SELECT add_continuous_aggregate_policy(%s, start_offset => NULL, "
            "end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour')",
            [series.name],
        )
        return True
    except DatabaseError as exc:
        logger.warning("%s: continuous aggregate refused (%s); using a rollup table", series.name, exc)
        cursor.execute(f"DROP MATERIALIZED VIEW IF EXISTS {series.name}")
        return False


def create_series(apps, schema_editor, names=("analytics_events_daily", "analytics_distance_daily")):
    """The series named (this migration's two; later ones pass their own)."""
    from apps.analytics.aggregates import SERIES, timescale_has_community_features

    community = timescale_has_community_features()
    with schema_editor.connection.cursor() as cursor:
        for series in (s for s in SERIES if s.name in names):
            if community and _continuous(cursor, series):
                continue
            cursor.execute(
                f"CREATE TABLE {series.name} ({series.columns_sql}, "
                f"PRIMARY KEY ({', '.join(series.key)}))"
            )
            cursor.execute(
                "SELECT create_hypertable(%s, 'day', chunk_time_interval => INTERVAL '365 days')",
                [series.name],
            )


def drop_series(apps, schema_editor, names=("analytics_events_daily", "analytics_distance_daily")):
    from apps.analytics.aggregates import SERIES

    with schema_editor.connection.cursor() as cursor:
        for series in (s for s in SERIES if s.name in names):
            cursor.execute(
                "SELECT 1 FROM timescaledb_information.continuous_aggregates WHERE view_name = %s",
                [series.name],
            )
            if cursor.fetchone():
                cursor.execute(f"DROP MATERIALIZED VIEW {series.name} CASCADE")
            else:
                cursor.execute(f"DROP TABLE IF EXISTS {series.name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("analytics", "0001_geofence_and_timeline_indexes")]

    operations = [migrations.RunPython(create_series, drop_series)]
