"""Daily and hourly series of the health measurements (apps/analytics/aggregates.py,
METRIC_SERIES): continuous aggregates where the server has TimescaleDB's community
features, rollup hypertables otherwise, made as migration 0002 makes its series.

Not atomic: TimescaleDB refuses to create a continuous aggregate inside a transaction.
"""

import importlib

from django.db import migrations

NAMES = ("analytics_metrics_daily", "analytics_metrics_hourly")
_series = importlib.import_module("apps.analytics.migrations.0002_daily_series")


def create(apps, schema_editor):
    _series.create_series(apps, schema_editor, names=NAMES)
    # Measurements stored before (migration lake 0005 moved Fit's): into the rollups.
    from apps.analytics.aggregates import METRIC_SERIES, series_is_continuous

    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT set_config('datapunk.system', 'on', false)")
        try:
            for series in METRIC_SERIES:
                if series_is_continuous(series):
                    cursor.execute("CALL refresh_continuous_aggregate(%s, NULL, NULL)", [series.name])
                    continue
                from apps.analytics.aggregates import owner_zone_sql

                cursor.execute(
                    f"INSERT INTO {series.name} "
                    + series.select(zone_sql=owner_zone_sql(series.hypertable))
                )
        finally:
            cursor.execute("SELECT set_config('datapunk.system', '', false)")


def drop(apps, schema_editor):
    _series.drop_series(apps, schema_editor, names=NAMES)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("analytics", "0005_geofence_state"),
        ("lake", "0005_fit_metric_events_to_healthmetric"),
    ]

    operations = [migrations.RunPython(create, drop)]
