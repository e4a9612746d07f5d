"""Semantic search: Celery tasks. They take ids, enter the user's context, call a service."""

from __future__ import annotations

import datetime as dt

from apps.analytics.search.services import (
    embeddings_backfill,
    embeddings_for_events,
    users_to_reembed,
)
from apps.core.db.context import system_context, user_context
from apps.core.retry import datapunk_task


# The names are those the tasks had before the search modules became a package, so
# messages already queued under them still find their task after an upgrade.
@datapunk_task(
    name="apps.analytics.search_tasks.embeddings_backfill_task"
)  # the services look only for what is missing
def embeddings_backfill_task(user_id: int, after: list | None = None) -> int:
    """Embed a bounded share of the user's events that lack an embedding, then queue the
    rest as a new task (so one big import never holds a worker for hours). Idempotent."""
    position = (dt.datetime.fromisoformat(after[0]), int(after[1])) if after else None
    with user_context(user_id):
        result = embeddings_backfill(user_id=user_id, after=position)
    if not result.done and result.after is not None:
        moment, last_id = result.after
        embeddings_backfill_task.delay(user_id, [moment.isoformat(), last_id])
    return result.embedded


@datapunk_task(
    name="apps.analytics.search_tasks.embeddings_for_events_task"
)  # the services look only for what is missing
def embeddings_for_events_task(user_id: int, event_ids: list[int]) -> int:
    """Embed new stream events of the user (those with text and no embedding yet)."""
    with user_context(user_id):
        return embeddings_for_events(user_id=user_id, event_ids=event_ids)


@datapunk_task()
def reembed_with_new_model_task() -> int:
    """Scheduled (settings.CELERY_BEAT_SCHEDULE): queue a backfill for every user who
    still has vectors of the previous model. The backfill embeds with the new model
    and, when nothing is left, deletes the old vectors; until then they serve."""
    with system_context():
        user_ids = users_to_reembed()
    for user_id in user_ids:
        embeddings_backfill_task.delay(user_id)
    return len(user_ids)
