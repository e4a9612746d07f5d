"""Compression and retention of the lake's old chunks, as the settings say.

Idempotent: run by the daily beat task and by ``manage.py chunk_policies``.
Compression and the policy jobs need TimescaleDB's community features; on the
Apache-only build, compression is reported as unavailable and retention is done
by calling ``drop_chunks`` directly (an Apache feature) each day instead.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from apps.analytics.aggregates import timescale_has_community_features
from apps.core.db.roles import table_owner

LAKE_HYPERTABLES = {"lake_event": "occurred_at", "lake_locationpoint": "recorded_at"}


def chunk_policies_apply() -> list[str]:
    """Bring compression and retention in line with the settings; say what was done."""
    compress_days = settings.DATAPUNK_COMPRESS_AFTER_DAYS
    retention_days = settings.DATAPUNK_RETENTION_DAYS
    community = timescale_has_community_features()
    said: list[str] = []
    # Policies and drop_chunks are the tables' owner's to change, not the app role's.
    with table_owner(), connection.cursor() as cursor:
        for table, time_column in LAKE_HYPERTABLES.items():
            if compress_days > 0 and community:
                cursor.execute(
                    f"ALTER TABLE {table} SET (timescaledb.compress, "
                    "timescaledb.compress_segmentby = 'user_id', "
                    f"timescaledb.compress_orderby = '{time_column} DESC')"
                )
                cursor.execute(
                    "SELECT add_compression_policy(%s, make_interval(days => %s), "
                    "if_not_exists => true)",
                    [table, compress_days],
                )
                said.append(f"{table}: chunks older than {compress_days} days are compressed")
            elif compress_days > 0:
                said.append(
                    f"{table}: compression needs TimescaleDB's community features, "
                    "which this server lacks; not compressed"
                )
            elif community:
                cursor.execute("SELECT remove_compression_policy(%s, if_exists => true)", [table])

            if retention_days > 0 and community:
                cursor.execute(
                    "SELECT add_retention_policy(%s, make_interval(days => %s), "
                    "if_not_exists => true)",
                    [table, retention_days],
                )
                said.append(f"{table}: chunks older than {retention_days} days are dropped")
            elif retention_days > 0:
                cursor.execute(
                    "SELECT count(*) FROM drop_chunks(%s, older_than => now() - make_interval(days => %s))",
                    [table, retention_days],
                )
                dropped = cursor.fetchone()[0]
                said.append(f"{table}: dropped {dropped} chunks older than {retention_days} days")
            elif community:
                cursor.execute("SELECT remove_retention_policy(%s, if_exists => true)", [table])
    return said
