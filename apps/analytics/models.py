"""Analytics: what a user defines over their lake (geofences), and the vectors of
semantic search.

The time-series (continuous aggregates over lake_event and lake_locationpoint)
are materialized views created by migrations, not models: RLS does not apply to
materialized views, so they are read only through apps/analytics/aggregates.py,
which filters by user explicitly.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models as gis
from django.db import models
from pgvector.django import HnswIndex, VectorField


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


class GeofenceState(models.Model):
    """Where the owner last was relative to a geofence, as of their newest fix seen.

    Streamed fixes advance it (apps/analytics/geofences.geofence_crossings_advance):
    only fixes after ``fix_at`` need judging, from ``inside`` on.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    geofence = models.OneToOneField(Geofence, on_delete=models.CASCADE, related_name="state")
    fix_at = models.DateTimeField()
    inside = models.BooleanField()

    def __str__(self) -> str:
        return f"{self.geofence_id}: {'inside' if self.inside else 'outside'} at {self.fix_at}"


# --- Semantic search (pgvector) -------------------------------------------------------
EMBEDDING_DIMENSIONS = 384


class Embedding(models.Model):
    """One event's text as a vector, per embedding model.

    A plain table, not a hypertable: one global HNSW index serves every search
    instead of one index per chunk. The event is referenced by (event_id,
    occurred_at) without a foreign key (lake_event is a hypertable: its id is not
    unique on its own). ``source`` and ``kind`` are copied from the event so that
    the search filters run inside the index scan (pgvector's iterative scan) and
    the event rows are read only for the results shown.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    event_id = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=32)
    kind = models.CharField(max_length=64)
    model = models.CharField(max_length=64)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "model"], name="analytics_embedding_once")
        ]
        indexes = [
            # The one vector index: cosine distance, as the model's vectors are compared.
            # m 16 (pgvector's default) and ef_construction 128 (twice the default):
            # scripts/bench_vector_index.py at 1,000,000 vectors gave recall@10 0.996 at
            # ef_search 200; with ef_construction 64 recall stopped near 0.94 whatever
            # ef_search (the graph, not the walk, was the limit).
            HnswIndex(
                name="analytics_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=128,
                opclasses=["vector_cosine_ops"],
            ),
            # A user's own rows by time: counts, and the exact scan the planner picks
            # when a filter leaves few rows (a narrow date range).
            models.Index(fields=["user", "occurred_at"], name="analytics_embedding_user_time"),
            # Every search asks whether the user still has vectors of the previous model
            # (search.selectors.serving_model): answered from this small index, not by
            # walking the user's million rows. Empty once the re-embedding is done.
            models.Index(
                fields=["user"],
                name="analytics_embedding_previous",
                condition=models.Q(model="all-MiniLM-L6-v2"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} embedding of event {self.event_id}"
