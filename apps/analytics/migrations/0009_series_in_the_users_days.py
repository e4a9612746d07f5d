"""The series in each user's own days on both materializations (apps/analytics/aggregates.py):

- a continuous aggregate made before held UTC days: made again with quarter-hour
  buckets in UTC, which the readers add up into the user's days (and refreshed);
- the distance rollup table gets each bucket's first and last fix (the readers join
  quarter hours with them; on a rollup's one row a day they are not needed, but the
  readers are the same for both) and is recomputed for every user who has fixes.

Not atomic: TimescaleDB refuses to create a continuous aggregate inside a transaction.
"""

import importlib

from django.db import migrations

_series = importlib.import_module("apps.analytics.migrations.0002_daily_series")


def forwards(apps, schema_editor) -> None:
    from apps.analytics.aggregates import DISTANCE_DAILY, SERIES, aggregates_refresh, series_is_continuous

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('datapunk.system', 'on', false)")
        try:
            for series in SERIES:
                if not series_is_continuous(series):
                    continue
                cursor.execute(f"DROP MATERIALIZED VIEW {series.name} CASCADE")
                _series.create_series(apps, schema_editor, names=(series.name,))
                cursor.execute("CALL refresh_continuous_aggregate(%s, NULL, NULL)", [series.name])
            if not series_is_continuous(DISTANCE_DAILY):
                cursor.execute(
                    f"ALTER TABLE {DISTANCE_DAILY.name} "
                    "ADD COLUMN IF NOT EXISTS first_point geography(Point, 4326), "
                    "ADD COLUMN IF NOT EXISTS last_point geography(Point, 4326)"
                )
                cursor.execute("SELECT DISTINCT user_id FROM lake_locationpoint ORDER BY user_id")
                for (user_id,) in cursor.fetchall():
                    aggregates_refresh(user_id=user_id)
        finally:
            cursor.execute("SELECT set_config('datapunk.system', '', false)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("analytics", "0008_events_daily_after_fit_move")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
