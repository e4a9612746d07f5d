"""The labelled query set is sound, and hybrid search ranks at least as well as each
single method on its corpus (apps/analytics/search/relevance/)."""

from __future__ import annotations

import pytest

from apps.analytics.search.relevance.corpus import (
    LANGUAGES,
    build_corpus,
    labels_for,
    load_queries,
    realdata_dir,
)
from apps.analytics.search.relevance.measure import (
    METHODS,
    evaluate,
    ndcg_at_k,
    recall_at_k,
    store_corpus,
)

needs_realdata = pytest.mark.skipif(
    not realdata_dir().is_dir(), reason=f"no real sample data at {realdata_dir()}"
)


@pytest.fixture(scope="module")
def corpus():
    return build_corpus()


@needs_realdata
def test_query_set_is_well_formed(corpus):
    queries = load_queries()
    keys = corpus.keys
    assert len(queries) >= 60
    assert len({q.id for q in queries}) == len(queries)
    assert len({q.language for q in queries}) >= 3
    assert {"en", "ja", "th"} <= {q.language for q in queries}
    for query in queries:
        assert query.query.strip(), query.id
        assert (query.topic is None) != (query.literal is None), query.id
        assert query.relevant, query.id
        assert set(query.relevant) <= keys, query.id
        # The labels are the rule's (topic or literal string), not an engine's answers.
        assert query.relevant == labels_for(query.__dict__, corpus), query.id


@needs_realdata
def test_corpus_holds_real_and_generated_events_in_every_language(corpus):
    real = [e for e in corpus.events if e.key.startswith("real-")]
    kinds = {e.record.kind for e in real}
    assert len(real) >= 40
    assert {"youtube.like", "chrome.visit", "keep.note", "gmail.message"} <= kinds
    assert {e.language for e in corpus.events if e.topic} == set(LANGUAGES)
    assert build_corpus().keys == corpus.keys  # seeded: the same every time


def test_measures():
    assert ndcg_at_k([1, 2, 3], {1, 2}) == pytest.approx(1.0)
    assert ndcg_at_k([3, 1, 2], {1, 2}) == pytest.approx(
        (1 / 1.5849625 + 0.5) / (1 + 1 / 1.5849625)
    )
    assert ndcg_at_k([], {1}) == 0.0
    assert recall_at_k([1, 99], set(range(1, 21))) == pytest.approx(0.1)
    assert recall_at_k(list(range(1, 11)), set(range(1, 21))) == 1.0


@needs_realdata
@pytest.mark.django_db
def test_hybrid_ranks_at_least_as_well_as_each_single_method(owner, corpus):
    ids = store_corpus(user_id=owner.pk, corpus=corpus)
    assert set(ids) == corpus.keys
    scores = {
        score.method: score for score in evaluate(user_id=owner.pk, ids=ids, queries=load_queries())
    }
    assert set(scores) == set(METHODS)
    hybrid = scores["hybrid"].ndcg
    for method in METHODS[:-1]:
        assert hybrid >= scores[method].ndcg, {m: round(s.ndcg, 3) for m, s in scores.items()}
