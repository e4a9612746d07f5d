"""Relevance of the search methods over the labelled corpus: nDCG@10 and recall@10.

The corpus is stored for a user through the real pipeline (records_store) and embedded
by both models; every method is then asked each query through the engine's own
functions (apps/analytics/search/hybrid.py), so what is measured is what serves:

- ``fulltext``: the full-text candidates alone (GIN index, ranked by ts_rank_cd);
- ``vector:<model>``: the nearest vectors alone, for the new and the previous model;
- ``hybrid``: the engine's matches, fused by reciprocal rank fusion and cut at the
  minimum relevance, as /search/ shows them.

nDCG@10 with binary gains (relevant or not); recall@10 is the share of a query's
relevant events found in the first ten, out of at most ten (a topic has 15 events, and
ten results cannot hold more), so 1.0 is the best any method can do.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from django.db import OperationalError, connection

from apps.analytics.embeddings import MODEL_NAME, PREVIOUS_MODEL
from apps.analytics.filters import EventFilters
from apps.analytics.search.hybrid import hybrid_ranking, text_candidates, vector_candidates
from apps.analytics.search.relevance.corpus import Corpus, LabelledQuery
from apps.analytics.search.services import embed_events_with, embeddings_backfill
from apps.core.db.context import user_context
from apps.lake.pipeline import records_store

K = 10
METHODS = ("fulltext", f"vector:{PREVIOUS_MODEL}", f"vector:{MODEL_NAME}", "hybrid")
ATTEMPTS = 3
CORPUS_KEY = "corpus_key"  # in each stored event's data: its key in the corpus


def ndcg_at_k(ranked: list[int], relevant: set[int], k: int = K) -> float:
    gains = sum(1.0 / math.log2(i + 2) for i, e in enumerate(ranked[:k]) if e in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return gains / ideal if ideal else 0.0


def recall_at_k(ranked: list[int], relevant: set[int], k: int = K) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / min(len(relevant), k)


def store_corpus(*, user_id: int, corpus: Corpus) -> dict[str, int]:
    """Store the corpus for the user and embed it with both models; returns key -> event id.

    Each event carries its key in ``data`` (so two equal sample records stay two events).
    """
    records = [
        replace(event.record, data={**event.record.data, CORPUS_KEY: event.key})
        for event in corpus.events
    ]
    with user_context(user_id):
        records_store(user_id=user_id, source="relevance", records=records)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT data->>%s, id FROM lake_event WHERE user_id = %s AND source = 'relevance'",
                [CORPUS_KEY, user_id],
            )
            ids = dict(cursor.fetchall())
        # The new model first: its backfill retires the previous model's vectors once
        # it has embedded everything, so those are added after.
        while not embeddings_backfill(user_id=user_id).done:
            pass
        embed_events_with(user_id=user_id, event_ids=ids.values(), model=PREVIOUS_MODEL)
    return ids


def rankers(user_id: int) -> dict[str, Callable[[str], list[int]]]:
    filters = EventFilters()

    def fulltext(query: str) -> list[int]:
        return text_candidates(user_id=user_id, query=query, filters=filters)[0]

    def vector(model: str) -> Callable[[str], list[int]]:
        def ranked(query: str) -> list[int]:
            refs = vector_candidates(user_id=user_id, query=query, filters=filters, model=model)
            return [event_id for event_id, _, _ in refs]

        return ranked

    def hybrid(query: str) -> list[int]:
        return hybrid_ranking(user_id=user_id, query=query, filters=filters).matches

    return {
        "fulltext": fulltext,
        f"vector:{PREVIOUS_MODEL}": vector(PREVIOUS_MODEL),
        f"vector:{MODEL_NAME}": vector(MODEL_NAME),
        "hybrid": hybrid,
    }


@dataclass(frozen=True)
class MethodScore:
    method: str
    ndcg: float  # mean nDCG@10 over the queries
    recall: float  # mean recall@10
    by_language: dict[str, float]  # mean nDCG@10 per query language


def evaluate(
    *, user_id: int, ids: dict[str, int], queries: Iterable[LabelledQuery]
) -> list[MethodScore]:
    """Mean nDCG@10 and recall@10 of every method over ``queries``, asked as a request
    asks them: in the user's context, under row-level security."""
    queries = list(queries)
    return [
        _score(user_id, method, ranked_for, ids, queries)
        for method, ranked_for in rankers(user_id).items()
    ]


def asked(user_id: int, ranked_for: Callable[[str], list[int]], query: str) -> list[int]:
    """One query in the user's context; asked again on a new connection if the server
    ended this one (a shared development server: other sessions' tests end backends)."""
    for attempt in range(ATTEMPTS):
        try:
            with user_context(user_id):
                return ranked_for(query)
        except OperationalError:
            if attempt == ATTEMPTS - 1:
                raise
            connection.close()
            time.sleep(1)
    raise AssertionError("unreachable")


def _score(
    user_id: int,
    method: str,
    ranked_for: Callable[[str], list[int]],
    ids: dict[str, int],
    queries: list[LabelledQuery],
) -> MethodScore:
    ndcgs: list[float] = []
    recalls: list[float] = []
    per_language: dict[str, list[float]] = {}
    for query in queries:
        relevant = {ids[key] for key in query.relevant}
        ranked = asked(user_id, ranked_for, query.query)
        ndcgs.append(ndcg_at_k(ranked, relevant))
        recalls.append(recall_at_k(ranked, relevant))
        per_language.setdefault(query.language, []).append(ndcgs[-1])
    return MethodScore(
        method,
        statistics.fmean(ndcgs),
        statistics.fmean(recalls),
        {lang: statistics.fmean(v) for lang, v in sorted(per_language.items())},
    )
