"""Semantic search listens to the lake: new events get embeddings in the background.

Receivers only queue work after commit and never fail the sender: a broker that
is down costs a log line, and the next import's backfill (which looks for every
event still missing an embedding) catches up.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from apps.core.queueing import queue_after_commit
from apps.lake.signals import events_stored, import_finished


@receiver(import_finished, dispatch_uid="analytics.search.backfill_after_import")
def backfill_after_import(sender: Any, *, user_id: int, import_id: int, **kwargs: Any) -> None:
    from apps.analytics.search.tasks import embeddings_backfill_task

    queue_after_commit(embeddings_backfill_task, user_id)


@receiver(events_stored, dispatch_uid="analytics.search.embed_stream_events")
def embed_stream_events(sender: Any, *, user_id: int, event_ids: list[int], **kwargs: Any) -> None:
    if not event_ids:
        return
    from apps.analytics.search.tasks import embeddings_for_events_task

    queue_after_commit(embeddings_for_events_task, user_id, list(event_ids))
