"""Backfill and new-event embeddings: the real model, the real database, the real signals."""

import pytest
from django.db import transaction

from apps.analytics.embeddings import MODEL_NAME
from apps.analytics.models import Embedding
from apps.analytics.search.selectors import index_status, text_events
from apps.analytics.search.services import (
    embeddings_backfill,
    embeddings_for_events,
    pending_count,
)
from apps.analytics.search.tasks import embeddings_backfill_task
from apps.lake.models import Event, Import
from apps.lake.pipeline import records_store
from apps.lake.signals import import_finished
from apps.lake.takeout.records import EventRecord
from tests.acting import all_of, as_user, count_of

from .search_data import LIFE, at, store_life

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_import(owner, import_takeout):
    return import_takeout(owner, points=20)


def test_backfill_embeds_the_demo_imports_text_events_and_a_second_run_adds_nothing(
    owner, demo_import
):
    with as_user(owner):
        assert demo_import.status == Import.Status.DONE
        expected = text_events(owner.pk).count()
        assert expected > 20  # the demo has videos, searches, notes, mails, places...
        # An event with nothing to read gets no embedding.
        blank = EventRecord(kind="fit.interval", occurred_at=at("2024-03-03T10:00"))
        records_store(user_id=owner.pk, source="ingest", records=[blank])
        assert Event.objects.filter(user=owner).count() == expected + 1

        first = embeddings_backfill(user_id=owner.pk)
        assert first.done and first.embedded == expected
        stored = Embedding.objects.filter(user=owner, model=MODEL_NAME)
        assert stored.count() == expected
        # One embedding per text event, pointing at that event and its time, kind, source.
        pairs = set(stored.values_list("event_id", "occurred_at", "kind", "source"))
        assert pairs == set(
            text_events(owner.pk).values_list("id", "occurred_at", "kind", "source")
        )

        second = embeddings_backfill(user_id=owner.pk)
        assert second.done and second.embedded == 0
        assert stored.count() == expected
        assert pending_count(user_id=owner.pk) == 0
        assert index_status(user_id=owner.pk).pending == 0


def test_a_bounded_backfill_resumes_where_it_stopped(owner, demo_import):
    with as_user(owner):
        expected = text_events(owner.pk).count()
        part = embeddings_backfill(user_id=owner.pk, batch_size=5, max_batches=2)
        assert not part.done and part.embedded == 10 and part.after is not None
        assert Embedding.objects.filter(user=owner).count() == 10
        rest = embeddings_backfill(user_id=owner.pk, after=part.after, batch_size=50)
        assert rest.done and rest.embedded == expected - 10
        # A fresh run (a crash lost ``after``) finds nothing missing either.
        assert embeddings_backfill(user_id=owner.pk).embedded == 0


def test_the_task_requeues_itself_until_everything_is_embedded(
    owner, demo_import, eager_celery, monkeypatch
):
    from apps.analytics.search import services as search_services

    monkeypatch.setattr(search_services, "MAX_BATCHES", 1)
    embeddings_backfill_task.delay(owner.pk)
    with as_user(owner):
        assert pending_count(user_id=owner.pk) == 0


def test_another_users_events_are_left_alone(owner, outsider):
    store_life(owner.pk)
    outsider_ids = store_life(outsider.pk)
    with as_user(owner):
        embeddings_backfill(user_id=owner.pk)
    assert count_of(outsider, Embedding) == 0
    # Ids of another user's events are skipped, not embedded into the wrong account.
    with as_user(owner):
        assert embeddings_for_events(user_id=owner.pk, event_ids=outsider_ids) == 0
    assert count_of(outsider, Embedding) == 0


@pytest.mark.django_db(transaction=True)
def test_new_stream_events_are_embedded_by_the_events_stored_receiver(owner, eager_celery):
    ids = store_life(owner.pk, source="ingest")  # records_store sends events_stored
    assert len(ids) == len(LIFE)
    embeddings = all_of(owner, Embedding)
    assert {embedding.event_id for embedding in embeddings} == set(ids)
    assert {embedding.source for embedding in embeddings} == {"ingest"}


@pytest.mark.django_db(transaction=True)
def test_a_finished_import_queues_the_backfill(owner, import_takeout, eager_celery):
    import_takeout(owner, points=20)  # sends import_finished
    with as_user(owner):
        assert Embedding.objects.count() == text_events(owner.pk).count() > 20


@pytest.mark.django_db(transaction=True)
def test_receivers_queue_only_after_commit_and_never_fail_the_sender(owner, monkeypatch, request):
    store_life(owner.pk)  # stored without eager tasks: only queued to the broker
    request.getfixturevalue("eager_celery")  # from here on tasks run at once
    with as_user(owner), transaction.atomic():  # as the import sends it
        import_finished.send(sender=Import, user_id=owner.pk, import_id=0)
        assert count_of(owner, Embedding) == 0  # not before commit
    assert count_of(owner, Embedding) == len(LIFE)

    attempts = []

    def broker_down(*args, **kwargs):
        attempts.append(args)
        raise ConnectionError("the broker is unreachable")

    # A broker that cannot be reached: the receiver logs, the sender goes on.
    monkeypatch.setattr(embeddings_backfill_task, "delay", broker_down)
    with as_user(owner), transaction.atomic():
        import_finished.send(sender=Import, user_id=owner.pk, import_id=0)
    assert attempts == [(owner.pk,)]


def test_after_a_model_change_old_vectors_serve_until_the_new_ones_are_all_there(owner):
    """The user's events were embedded by the previous model: searches use those vectors
    (the query embedded by that model too) until the backfill has embedded everything
    with the new model; then the new model serves and the old vectors are deleted."""
    from apps.analytics.embeddings import PREVIOUS_MODEL
    from apps.analytics.filters import EventFilters
    from apps.analytics.search.selectors import SearchRequest, semantic_search, serving_model
    from apps.analytics.search.services import _FIELDS, _embed_rows

    with as_user(owner):
        ids = store_life(owner.pk)
        rows = list(Event.objects.filter(id__in=ids).values(*_FIELDS))
        assert _embed_rows(user_id=owner.pk, rows=rows, model=PREVIOUS_MODEL) == len(LIFE)
        request = SearchRequest(query="that ramen place in Osaka", filters=EventFilters(), limit=3)
        assert serving_model(user_id=owner.pk) == PREVIOUS_MODEL
        assert semantic_search(user_id=owner.pk, request=request)[0].event["title"] == (
            "Ichiran Dotonbori"
        )
        # Half way: the new model has fewer vectors than the old; the old still serve.
        part = embeddings_backfill(user_id=owner.pk, batch_size=2, max_batches=1)
        assert part.embedded == 2 and not part.done
        assert serving_model(user_id=owner.pk) == PREVIOUS_MODEL
        assert Embedding.objects.filter(user=owner, model=PREVIOUS_MODEL).count() == len(LIFE)
        # The hourly task finds the user; the backfill finishes and retires the old vectors.
        from apps.analytics.search.services import users_to_reembed
        from apps.core.db.context import system_context

        with system_context():
            assert users_to_reembed() == [owner.pk]
        assert embeddings_backfill(user_id=owner.pk).done
        assert serving_model(user_id=owner.pk) == MODEL_NAME
        assert not Embedding.objects.filter(user=owner, model=PREVIOUS_MODEL).exists()
        assert Embedding.objects.filter(user=owner, model=MODEL_NAME).count() == len(LIFE)
        assert semantic_search(user_id=owner.pk, request=request)[0].event["title"] == (
            "Ichiran Dotonbori"
        )
