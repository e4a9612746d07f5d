"""Semantic search listens to the lake: new events get embeddings in the background.

Receivers only queue work after commit and never fail the sender: a broker that
is down costs a log line, and the next import's backfill (which looks for every
event still missing an embedding) catches up.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from apps.lake.signals import events_stored, import_finished

log = logging.getLogger(__name__)


def _queue(what: str, send: Any) -> None:
    def send_quietly() -> None:
        try:
            send()
        except Exception:  # the sender's work is done and must not fail for ours
            log.exception("could not queue %s", what)

    transaction.on_commit(send_quietly)


@receiver(import_finished, dispatch_uid="analytics.search.backfill_after_import")
def backfill_after_import(sender: Any, *, user_id: int, import_id: int, **kwargs: Any) -> None:
    from apps.analytics.search_tasks import embeddings_backfill_task

    _queue(
        f"the embeddings backfill after import {import_id}",
        lambda: embeddings_backfill_task.delay(user_id),
    )


@receiver(events_stored, dispatch_uid="analytics.search.embed_stream_events")
def embed_stream_events(sender: Any, *, user_id: int, event_ids: list[int], **kwargs: Any) -> None:
    if not event_ids:
        return
    from apps.analytics.search_tasks import embeddings_for_events_task

    ids = list(event_ids)
    _queue(
        f"embeddings of {len(ids)} new events",
        lambda: embeddings_for_events_task.delay(user_id, ids),
    )
