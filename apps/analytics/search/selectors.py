"""Semantic search: reads (selectors) over analytics_embedding, for the API and the page.

A query is embedded with the same model as the events, then the nearest of the
user's vectors by cosine distance are found through the one HNSW index, with the
filters (source, kind, date range: the timeline's parameter names) applied inside
the index scan. pgvector's iterative scan (``hnsw.iterative_scan``, 0.8) keeps
walking the graph until enough rows pass the filters, so a narrow filter still
fills a page; its relaxed order is put right by sorting the few rows found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count

from apps.analytics.embeddings import MODEL_NAME, PREVIOUS_MODEL, embed_query
from apps.analytics.filters import EventFilters, FilterError, event_filters_from_params, one_value
from apps.analytics.models import Embedding
from apps.lake.models import Event
from apps.privacy.pii.on_screen import marks_for_owner
from apps.privacy.redaction import redact_event_payloads

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
# Candidates the graph walk keeps (hnsw.ef_search): scripts/bench_vector_index.py shows 200
# gives recall@10 0.996 at 1,000,000 vectors, p95 17 ms (README "Vector index benchmark").
EF_SEARCH = 200
# An upper bound on the rows an iterative scan visits for a very selective filter
# (pgvector's default is 20,000); past it, fewer results than asked come back.
MAX_SCAN_TUPLES = 40_000


class SearchParamError(ValueError):
    """A search parameter that cannot be used; the message is written for the user."""


@dataclass(frozen=True)
class SearchRequest:
    query: str
    filters: EventFilters  # source, kind, start and end apply; see search_request_from_params
    limit: int = DEFAULT_LIMIT


@dataclass(frozen=True)
class SearchHit:
    event: dict[str, Any]  # id, source, kind, occurred_at, title, text, url, data (redacted)
    score: float  # cosine similarity, 1 = same meaning


def search_request_from_params(
    params: Mapping[str, Any], *, user: Any, require_query: bool
) -> SearchRequest:
    """Read ``q``, ``limit`` and the filters (the timeline's parser, apps/analytics/filters.py)
    from query parameters, or raise SearchParamError."""
    try:
        filters = event_filters_from_params(params, user=user)
        limit_raw = one_value(params, "limit")
    except FilterError as problem:
        raise SearchParamError(str(problem)) from None
    if filters.center is not None or filters.area is not None:
        # The vector index holds no coordinates; the timeline filters by area.
        raise SearchParamError("search filters by source, kind, start and end, not by area")
    if require_query and not filters.query:
        raise SearchParamError("q: say what you are looking for")
    if limit_raw:
        if (
            not (limit_raw.isascii() and limit_raw.isdigit())
            or not 1 <= int(limit_raw) <= MAX_LIMIT
        ):
            raise SearchParamError(f"limit: a whole number from 1 to {MAX_LIMIT}")
        limit = int(limit_raw)
    else:
        limit = DEFAULT_LIMIT
    return SearchRequest(query=filters.query, filters=filters, limit=limit)


def _filter_sql(filters: EventFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.sources:
        clauses.append("source = ANY(%s)")
        params.append(list(filters.sources))
    if filters.kinds:
        exact = [kind for kind in filters.kinds if not kind.endswith(".*")]
        prefixes = [kind[:-1] for kind in filters.kinds if kind.endswith(".*")]
        alternatives = []
        if exact:
            alternatives.append("kind = ANY(%s)")
            params.append(exact)
        for prefix in prefixes:
            alternatives.append("starts_with(kind, %s)")
            params.append(prefix)
        clauses.append("(" + " OR ".join(alternatives) + ")")
    if filters.start:
        clauses.append("occurred_at >= %s")
        params.append(filters.start)
    if filters.end:
        clauses.append("occurred_at < %s")
        params.append(filters.end)
    return "".join(f" AND {clause}" for clause in clauses), params


def serving_model(*, user_id: int) -> str:
    """The model whose vectors answer the user's searches.

    The new model once it has embedded at least as many of the user's events as the
    previous one had (a new user: at once); until then, while the background
    re-embedding runs, the previous model's vectors keep serving.
    """
    # The usual case, asked of a small partial index: no vector of the previous model.
    if not Embedding.objects.filter(user_id=user_id, model=PREVIOUS_MODEL).exists():
        return MODEL_NAME
    counts = dict(
        Embedding.objects.filter(user_id=user_id, model__in=(MODEL_NAME, PREVIOUS_MODEL))
        .values_list("model")
        .annotate(n=Count("id"))
        .values_list("model", "n")
    )
    if counts.get(PREVIOUS_MODEL, 0) > counts.get(MODEL_NAME, 0):
        return PREVIOUS_MODEL
    return MODEL_NAME


def nearest_event_refs(
    *,
    user_id: int,
    vector: list[float],
    filters: EventFilters,
    limit: int,
    model: str = MODEL_NAME,
) -> list[tuple[int, dt.datetime, float]]:
    """(event_id, occurred_at, cosine distance) of the user's nearest embeddings."""
    where, params = _filter_sql(filters)
    literal = "[" + ",".join(f"{x:.8g}" for x in vector) + "]"
    sql = (
        "WITH nearest AS MATERIALIZED ("
        " SELECT event_id, occurred_at, embedding <=> %s::vector AS distance"
        " FROM analytics_embedding"
        f" WHERE user_id = %s AND model = %s{where}"
        " ORDER BY embedding <=> %s::vector LIMIT %s"
        ") SELECT event_id, occurred_at, distance FROM nearest ORDER BY distance, event_id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # SET LOCAL: the settings end with this transaction, on a pooled connection too.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}")
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(f"SET LOCAL hnsw.max_scan_tuples = {MAX_SCAN_TUPLES}")
        cursor.execute(sql, [literal, user_id, model, *params, literal, limit])
        return [(row[0], row[1], float(row[2])) for row in cursor.fetchall()]


def event_payload(event: Event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "source": event.source,
        "kind": event.kind,
        "occurred_at": event.occurred_at,
        "title": event.title,
        "text": event.text,
        "url": event.url,
        "data": event.data,
    }


def semantic_search(
    *, user_id: int, request: SearchRequest, for_owner_page: bool = False
) -> list[SearchHit]:
    """The user's events nearest in meaning to ``request.query``, best first, redacted
    (or, for the owner's own page, as they are with PII marked: on_screen.py).

    Only ``user_id``'s rows are read (explicitly, whatever row-level security adds).
    """
    if not request.query:
        return []
    model = serving_model(user_id=user_id)
    refs = nearest_event_refs(
        user_id=user_id,
        vector=embed_query(request.query, model=model),
        filters=request.filters,
        limit=request.limit,
        model=model,
    )
    if not refs:
        return []
    # occurred_at lets TimescaleDB read only the chunks that hold the results.
    events = {
        event.pk: event
        for event in Event.objects.filter(
            user_id=user_id,
            id__in=[ref[0] for ref in refs],
            occurred_at__in=sorted({ref[1] for ref in refs}),
        )
    }
    found = [(events[event_id], distance) for event_id, _, distance in refs if event_id in events]
    shown = marks_for_owner if for_owner_page else redact_event_payloads
    payloads = shown(user_id=user_id, payloads=[event_payload(event) for event, _ in found])
    return [
        SearchHit(event=payload, score=round(1.0 - distance, 4))
        for payload, (_, distance) in zip(payloads, found, strict=True)
    ]


def text_events(user_id: int):
    """The user's events that have text to embed (a title or a text)."""
    return Event.objects.filter(user_id=user_id).exclude(title="", text="")


@dataclass(frozen=True)
class IndexStatus:
    embedded: int
    text_events: int

    @property
    def pending(self) -> int:
        return max(self.text_events - self.embedded, 0)


def index_status(*, user_id: int) -> IndexStatus:
    """How many of the user's text events are embedded so far (the page's empty state)."""
    return IndexStatus(
        embedded=Embedding.objects.filter(user_id=user_id, model=MODEL_NAME).count(),
        text_events=text_events(user_id).count(),
    )


def search_facets(*, user_id: int) -> tuple[list[str], list[str]]:
    """Sources and kinds the user has embeddings of (the page's filter choices)."""
    rows = (
        Embedding.objects.filter(user_id=user_id, model=serving_model(user_id=user_id))
        .values_list("source", "kind")
        .distinct()
    )
    pairs = list(rows)
    return sorted({s for s, _ in pairs}), sorted({k for _, k in pairs})
