"""Hybrid retrieval: full-text and vector candidates fused by reciprocal rank fusion.

Each list ranks its candidates (full-text by ``ts_rank_cd``, title words weighing
more; vectors by cosine similarity); an event's fused score is the sum over the lists
of 1 / (RRF_K + its rank there) (Cormack, Clarke and Büttcher, SIGIR 2009; k = 60 as
there), scaled so that first in both lists is 1. A literal word match therefore ranks
high, and meaning still finds what shares no word.

A minimum relevance decides what is called a match: an event matches when it has the
query's words (full-text) or its vector is at least ``MIN_SIMILARITY`` close. When
nothing matches, the page says "nothing close" and the nearest few are shown apart.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from apps.analytics.embeddings import MODEL_NAME, PREVIOUS_MODEL, embed_query
from apps.analytics.filters import EventFilters, apply_event_filters
from apps.analytics.search.fulltext import newest_text_matches
from apps.analytics.search.selectors import (
    SearchRequest,
    event_payload,
    nearest_event_refs,
    serving_model,
)
from apps.core.db.context import user_context
from apps.lake.models import Event
from apps.privacy.pii.on_screen import marks_for_owner
from apps.privacy.redaction import redact_event_payloads

RRF_K = 60
CANDIDATES = 50  # from each list
# Full-text matches looked at (newest first) before ranking them by ts_rank_cd.
TEXT_POOL = 200
# Cosine similarity at which a vector neighbour counts as a match, per model. e5's
# similarities are compressed, and one cut for every query separates poorly: over the
# labelled set (relevance/queries.json, the 50 nearest of each query) 0.805 keeps 97%
# of the relevant events and 88% of the others, 0.812 90% and 73%, 0.83 64% and 23%.
# 0.805 keeps what is relevant (the fusion orders it); unrelated queries' nearest
# stay below ("quantum chromodynamics lattice gauge" 0.792 on search_data.py's events,
# while "power company invoice" finds its bill at 0.811). MiniLM's spread from ~0 to 1.
MIN_SIMILARITY = {MODEL_NAME: 0.805, PREVIOUS_MODEL: 0.35}
NEAREST_SHOWN = 3


@dataclass(frozen=True)
class HybridHit:
    event: dict[str, Any]  # redacted payload, as the timeline's
    score: float  # fused, 1 = first in both lists
    similarity: float | None  # cosine similarity, when a vector candidate
    words: bool  # the event has the query's words (full-text match)
    title_parts: list[tuple[str, bool]] = field(default_factory=list)  # (text, highlighted)
    text_parts: list[tuple[str, bool]] = field(default_factory=list)


@dataclass(frozen=True)
class HybridResult:
    hits: list[HybridHit]  # matches, best first
    nearest: list[HybridHit]  # when no match: the closest few, shown apart


_WORD = re.compile(r"\w+", re.UNICODE)
_SUFFIXES = ("ing", "ed", "es", "s")


def query_words(query: str) -> list[str]:
    """The words to highlight: those of the query not excluded with ``-``, lowercased,
    English suffixes taken off (so "cooking" marks "cooked")."""
    words: list[str] = []
    for token in query.split():
        if token.startswith("-"):
            continue
        for word in _WORD.findall(token.lower()):
            for suffix in _SUFFIXES:
                if len(word) > len(suffix) + 2 and word.endswith(suffix):
                    word = word[: -len(suffix)]
                    break
            if len(word) >= 2:
                words.append(word)
    return sorted(set(words), key=len, reverse=True)


def highlight(text: str, words: list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into (part, is a query word) pieces; the template marks the second."""
    if not text or not words:
        return [(text, False)] if text else []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE)
    parts: list[tuple[str, bool]] = []
    last = 0
    for found in pattern.finditer(text):
        if found.start() > last:
            parts.append((text[last : found.start()], False))
        parts.append((found.group(0), True))
        last = found.end()
    if last < len(text):
        parts.append((text[last:], False))
    return parts


def _crop(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


@dataclass(frozen=True)
class Ranking:
    """Both candidate lists of a query and what fusing them gives (ids only)."""

    model: str  # whose vectors
    text_ranked: list[int]  # full-text candidates, best first (ts_rank_cd)
    vector_refs: list[tuple[int, dt.datetime, float]]  # (id, occurred_at, distance), nearest first
    text_times: dict[int, dt.datetime]
    fused: dict[int, float]
    matches: list[int]  # fused order, only those called a match (words, or close enough)

    @property
    def similarity(self) -> dict[int, float]:
        return {event_id: 1.0 - distance for event_id, _, distance in self.vector_refs}


def text_candidates(
    *, user_id: int, query: str, filters: EventFilters
) -> tuple[list[int], dict[int, dt.datetime]]:
    """The user's full-text matches of ``query`` passing ``filters``, best first
    (ts_rank_cd over the newest TEXT_POOL), at most CANDIDATES; and their times."""
    # The function reads the user from the connection: say it (as the vector search's
    # explicit user_id does), whatever context the caller is in.
    with user_context(user_id):
        pool = newest_text_matches(query, limit=TEXT_POOL)
    text_matches = sorted(
        pool,
        key=lambda match: (-match.rank, -match.occurred_at.timestamp(), -match.event_id),
    )
    # The full-text list passes through the same filters as the vector list (a read
    # saved when there are none: the function answers only the user's events).
    wanted = {m.event_id: m for m in text_matches}
    others = replace(filters, query="", echo={})
    allowed = set(wanted) if others.is_empty else set(
        apply_event_filters(
            Event.objects.filter(
                user_id=user_id,
                id__in=list(wanted),
                occurred_at__in=sorted({m.occurred_at for m in text_matches}),
            ),
            others,
        ).values_list("id", flat=True)
    ) if wanted else set()  # fmt: skip
    ranked = [m.event_id for m in text_matches if m.event_id in allowed][:CANDIDATES]
    return ranked, {m.event_id: m.occurred_at for m in text_matches}


def vector_candidates(
    *, user_id: int, query: str, filters: EventFilters, model: str
) -> list[tuple[int, dt.datetime, float]]:
    """The user's CANDIDATES nearest events to ``query`` by ``model``'s vectors."""
    return nearest_event_refs(
        user_id=user_id,
        vector=embed_query(query, model=model),
        filters=filters,
        limit=CANDIDATES,
        model=model,
    )


def close_enough(refs: list[tuple[int, dt.datetime, float]], model: str) -> list[int]:
    """The vector candidates called a match by meaning (``MIN_SIMILARITY``), nearest first."""
    threshold = MIN_SIMILARITY.get(model, 0.0)
    return [event_id for event_id, _, distance in refs if 1.0 - distance >= threshold]


def vector_matches(
    *, user_id: int, query: str, filters: EventFilters
) -> list[tuple[int, dt.datetime]]:
    """(id, occurred_at) of the events the engine calls a match by meaning alone: the
    timeline's ``q`` shows these beside its full-text matches, as /search/ does."""
    model = serving_model(user_id=user_id)
    refs = vector_candidates(user_id=user_id, query=query, filters=filters, model=model)
    close = set(close_enough(refs, model))
    return [(event_id, moment) for event_id, moment, _ in refs if event_id in close]


def fuse(
    text_ranked: list[int], vector_refs: list[tuple[int, dt.datetime, float]]
) -> dict[int, float]:
    """Reciprocal rank fusion: each list adds 1 / (RRF_K + rank) to its candidates."""
    fused: dict[int, float] = {}
    for rank, event_id in enumerate(text_ranked, start=1):
        fused[event_id] = fused.get(event_id, 0.0) + 1.0 / (RRF_K + rank)
    for rank, (event_id, _, _) in enumerate(vector_refs, start=1):
        fused[event_id] = fused.get(event_id, 0.0) + 1.0 / (RRF_K + rank)
    return fused


def hybrid_ranking(*, user_id: int, query: str, filters: EventFilters) -> Ranking:
    """The engine's ranking of the user's events for ``query`` (ids; nothing read or
    redacted yet): what hybrid_search shows, the timeline's ``q`` and the benchmark use."""
    model = serving_model(user_id=user_id)
    vector_refs = vector_candidates(user_id=user_id, query=query, filters=filters, model=model)
    text_ranked, text_times = text_candidates(user_id=user_id, query=query, filters=filters)
    fused = fuse(text_ranked, vector_refs)
    called = set(text_ranked) | set(close_enough(vector_refs, model))
    ordered = sorted(fused, key=lambda event_id: (-fused[event_id], event_id))
    matches = [event_id for event_id in ordered if event_id in called]
    return Ranking(model, text_ranked, vector_refs, text_times, fused, matches)


def hybrid_search(
    *, user_id: int, request: SearchRequest, for_owner_page: bool = False
) -> HybridResult:
    """The user's events for ``request.query``: matches fused best first, redacted (or,
    for the owner's own page, as they are with PII marked: apps/privacy/pii/on_screen.py)."""
    if not request.query:
        return HybridResult(hits=[], nearest=[])
    ranking = hybrid_ranking(user_id=user_id, query=request.query, filters=request.filters)
    vector_refs, fused = ranking.vector_refs, ranking.fused
    similarity = ranking.similarity
    text_set = set(ranking.text_ranked)
    matches = ranking.matches[: request.limit]
    nearest = [] if matches else [e for e, _, _ in vector_refs[:NEAREST_SHOWN]]
    shown = matches or nearest
    if not shown:
        return HybridResult(hits=[], nearest=[])
    times = dict(ranking.text_times)
    times |= {event_id: moment for event_id, moment, _ in vector_refs}
    events = {
        event.pk: event
        for event in Event.objects.filter(
            user_id=user_id, id__in=shown, occurred_at__in=sorted({times[e] for e in shown})
        )
    }
    present = [e for e in shown if e in events]
    shown_as = marks_for_owner if for_owner_page else redact_event_payloads
    payloads = shown_as(user_id=user_id, payloads=[event_payload(events[e]) for e in present])
    words = query_words(request.query)
    best_possible = 2.0 / (RRF_K + 1)
    hits = [
        HybridHit(
            event=payload,
            score=round(min(fused[e] / best_possible, 1.0), 4),
            similarity=round(similarity[e], 4) if e in similarity else None,
            words=e in text_set,
            title_parts=highlight(_crop(payload["title"] or "", 120), words),
            text_parts=highlight(_crop(payload["text"] or "", 240), words),
        )
        for e, payload in zip(present, payloads, strict=True)
    ]
    return HybridResult(hits=hits if matches else [], nearest=[] if matches else hits)
