# This app's tables arrive with its issue (see ../shared/DESIGN.md).

# --- Semantic search (pgvector) -------------------------------------------------------
from django.conf import settings
from django.db import models
from pgvector.django import HnswIndex, VectorField

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
            # m / ef_construction: pgvector's defaults, which scripts/bench_search.py shows
            # meet recall@10 >= 0.95 at 1,000,000 vectors with hnsw.ef_search tuned.
            HnswIndex(
                name="analytics_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            # A user's own rows by time: counts, and the exact scan the planner picks
            # when a filter leaves few rows (a narrow date range).
            models.Index(fields=["user", "occurred_at"], name="analytics_embedding_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.model} embedding of event {self.event_id}"
