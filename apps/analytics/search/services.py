"""Semantic search: writes. Embeds users' events into analytics_embedding.

Both services are idempotent: the database decides duplicates (unique per event
and model, ON CONFLICT DO NOTHING), so a rerun, a retry or two workers at once
add nothing twice. Callers run them inside ``user_context(user_id)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet

from apps.analytics.embeddings import MODEL_NAME, PREVIOUS_MODEL, embed_texts, event_text
from apps.analytics.models import Embedding
from apps.analytics.search.selectors import text_events
from apps.core import advisory_locks
from apps.lake.models import Event

# Events embedded per round: one model call and one short transaction. ~256 texts
# take a few seconds on one CPU core, so a crash loses little.
BATCH_SIZE = 256
# Rounds per task run: a task ends within minutes and queues its continuation, so one
# user's million events never hold a worker for hours (saleor's bounded batches).
MAX_BATCHES = 40
# pg_try_advisory_lock(key1, user_id): one backfill per user at a time.
BACKFILL_LOCK = advisory_locks.SEARCH_BACKFILL


@dataclass(frozen=True)
class BackfillResult:
    embedded: int  # rows inserted this run
    done: bool  # nothing is left to embed (False: call again with ``after``)
    after: tuple[dt.datetime, int] | None = None  # where the next run goes on
    locked: bool = False  # another backfill of this user was running: nothing done


_FIELDS = ("id", "occurred_at", "source", "kind", "title", "text", "url")


def _embed_rows(*, user_id: int, rows: list[dict], model: str = MODEL_NAME) -> int:
    """Embed and store ``rows`` (values of Event); returns the rows really inserted."""
    texts = [event_text(title=r["title"], text=r["text"], url=r["url"]) for r in rows]
    keep = [(row, text) for row, text in zip(rows, texts, strict=True) if text]
    if not keep:
        return 0
    vectors = embed_texts([text for _, text in keep], model=model)
    columns: list[list] = [[], [], [], [], []]
    for (row, _), vector in zip(keep, vectors, strict=True):
        columns[0].append(row["id"])
        columns[1].append(row["occurred_at"])
        columns[2].append(row["source"])
        columns[3].append(row["kind"])
        columns[4].append("[" + ",".join(f"{x:.8g}" for x in vector) + "]")
    # One statement per batch; the unique (event_id, model) key decides duplicates.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_embedding"
            " (user_id, event_id, occurred_at, source, kind, model, embedding, created_at)"
            " SELECT %s, event_id, occurred_at, source, kind, %s, embedding, now()"
            " FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::text[],"
            " %s::text[]::vector[]) AS batch(event_id, occurred_at, source, kind, embedding)"
            " ON CONFLICT (event_id, model) DO NOTHING",
            [user_id, model, *columns],
        )
        return cursor.rowcount


def _missing(queryset: QuerySet[Event], model: str = MODEL_NAME) -> QuerySet[Event]:
    return queryset.exclude(Exists(Embedding.objects.filter(event_id=OuterRef("id"), model=model)))


def embeddings_backfill(
    *,
    user_id: int,
    after: tuple[dt.datetime, int] | None = None,
    batch_size: int | None = None,
    max_batches: int | None = None,
) -> BackfillResult:
    """Embed the user's text events that have no embedding yet, oldest first.

    Idempotent and resumable: it looks for what is missing, so a run that died
    leaves committed batches in place and the next run goes on from there. Walks
    forward by (occurred_at, id), at most ``max_batches`` batches; ``after`` says
    where a previous bounded run stopped. Locks: a session advisory lock per user
    (a second concurrent backfill returns at once with ``locked``).
    """
    batch_size = batch_size or BATCH_SIZE
    max_batches = max_batches or MAX_BATCHES
    with advisory_locks.session_lock(BACKFILL_LOCK, user_id) as locked:
        if not locked:
            return BackfillResult(embedded=0, done=True, locked=True)
        embedded = 0
        position = after
        for _ in range(max_batches):
            queryset = _missing(text_events(user_id))
            if position is not None:
                moment, last_id = position
                queryset = queryset.filter(occurred_at__gte=moment).exclude(
                    occurred_at=moment, id__lte=last_id
                )
            rows = list(queryset.order_by("occurred_at", "id").values(*_FIELDS)[:batch_size])
            if not rows:
                retire_previous_vectors(user_id=user_id)
                return BackfillResult(embedded=embedded, done=True)
            embedded += _embed_rows(user_id=user_id, rows=rows)
            position = (rows[-1]["occurred_at"], rows[-1]["id"])
        return BackfillResult(embedded=embedded, done=False, after=position)


def embeddings_for_events(*, user_id: int, event_ids: Iterable[int]) -> int:
    """Embed the given events of the user (new stream events) that lack one. Idempotent.

    Ids that are not the user's, have no text, or are embedded already are skipped.
    """
    ids = sorted({int(event_id) for event_id in event_ids})
    embedded = 0
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start : start + BATCH_SIZE]
        rows = list(
            _missing(text_events(user_id).filter(id__in=chunk)).order_by("id").values(*_FIELDS)
        )
        embedded += _embed_rows(user_id=user_id, rows=rows)
    return embedded


def embed_events_with(*, user_id: int, event_ids: Iterable[int], model: str) -> int:
    """Embed the given events of the user with ``model`` where they lack its vector
    (the relevance benchmark compares models on one corpus). Idempotent."""
    ids = sorted({int(event_id) for event_id in event_ids})
    embedded = 0
    for start in range(0, len(ids), BATCH_SIZE):
        queryset = text_events(user_id).filter(id__in=ids[start : start + BATCH_SIZE])
        rows = list(_missing(queryset, model).order_by("id").values(*_FIELDS))
        embedded += _embed_rows(user_id=user_id, rows=rows, model=model)
    return embedded


def retire_previous_vectors(*, user_id: int) -> int:
    """Delete the user's vectors of the previous model once the new model has embedded
    every text event (they served searches until now); returns the rows deleted."""
    if _missing(text_events(user_id)).exists():
        return 0
    deleted, _ = Embedding.objects.filter(user_id=user_id, model=PREVIOUS_MODEL).delete()
    return deleted


def users_to_reembed() -> list[int]:
    """Users who still have vectors of the previous model (call in system_context)."""
    return sorted(
        Embedding.objects.filter(model=PREVIOUS_MODEL).values_list("user_id", flat=True).distinct()
    )


def pending_count(*, user_id: int) -> int:
    """Text events of the user still waiting for an embedding."""
    return _missing(text_events(user_id)).count()
