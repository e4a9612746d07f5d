import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Keyset pagination of the timeline walks (occurred_at, id) newest first within
# one user; full-text search matches this exact expression (apps/analytics/filters.py).
TIMELINE_INDEXES = """
CREATE INDEX IF NOT EXISTS analytics_event_user_time
    ON lake_event (user_id, occurred_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS analytics_event_fts
    ON lake_event USING gin (
        to_tsvector('english'::regconfig, coalesce("title", '') || ' ' || coalesce("text", ''))
    );
"""
DROP_TIMELINE_INDEXES = """
DROP INDEX IF EXISTS analytics_event_user_time;
DROP INDEX IF EXISTS analytics_event_fts;
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("lake", "0002_place_entry"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Geofence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=120)),
                ("area", django.contrib.gis.db.models.fields.PolygonField(blank=True, geography=True, null=True, srid=4326)),
                ("center", django.contrib.gis.db.models.fields.PointField(blank=True, geography=True, null=True, srid=4326)),
                ("radius_m", models.FloatField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="geofences", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "ordering": ["name", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("area__isnull", False), ("center__isnull", True), ("radius_m__isnull", True)),
                            models.Q(("area__isnull", True), ("center__isnull", False), ("radius_m__gt", 0)),
                            _connector="OR",
                        ),
                        name="analytics_geofence_polygon_or_circle",
                    ),
                    models.UniqueConstraint(fields=("user", "name"), name="analytics_geofence_unique_name"),
                ],
            },
        ),
        migrations.RunSQL(TIMELINE_INDEXES, DROP_TIMELINE_INDEXES),
    ]
