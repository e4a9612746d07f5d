"""The events-per-day rollup after lake 0005 moved Fit's measurement events out of
lake_event: it still counted them. A continuous aggregate sees the deletions itself
(its refresh policy recomputes invalidated buckets); a rollup table is recomputed
for each user who has measurements (every user whose events moved has)."""

from django.db import migrations


def refresh_after_fit_move(connection) -> None:
    from apps.analytics.aggregates import EVENTS_DAILY, aggregates_refresh, series_is_continuous

    if series_is_continuous(EVENTS_DAILY):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT user_id FROM lake_healthmetric ORDER BY user_id")
        user_ids = [row[0] for row in cursor.fetchall()]
    for user_id in user_ids:
        aggregates_refresh(user_id=user_id)


def forwards(apps, schema_editor) -> None:
    refresh_after_fit_move(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0007_merge_search_vector_and_metric_series"),
        ("lake", "0005_fit_metric_events_to_healthmetric"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
