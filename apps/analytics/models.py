"""Analytics: what a user defines over their lake (geofences).

The time-series (continuous aggregates over lake_event and lake_locationpoint)
are materialized views created by migrations, not models: RLS does not apply to
materialized views, so they are read only through apps/analytics/aggregates.py,
which filters by user explicitly.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models as gis
from django.db import models


class Geofence(models.Model):
    """An area the user cares about: a polygon, or a circle (center + radius).

    Crossing its edge (judged over the user's location points) yields the
    events ``geofence.enter`` and ``geofence.exit`` (apps/analytics/spatial.py).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="geofences"
    )
    name = models.CharField(max_length=120)
    area = gis.PolygonField(geography=True, srid=4326, null=True, blank=True)
    center = gis.PointField(geography=True, srid=4326, null=True, blank=True)
    radius_m = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(area__isnull=False, center__isnull=True, radius_m__isnull=True)
                    | models.Q(area__isnull=True, center__isnull=False, radius_m__gt=0)
                ),
                name="analytics_geofence_polygon_or_circle",
            ),
            models.UniqueConstraint(fields=["user", "name"], name="analytics_geofence_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name
