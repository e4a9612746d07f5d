"""Privacy jobs: exports, delete-my-data and PII scans. Each takes a user id and
works inside that user's context."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from apps.core.db.context import user_context
from apps.core.feed import publish
from apps.core.retry import datapunk_task
from apps.privacy.deletion import DeletionBlocked, user_data_delete
from apps.privacy.exports import export_run
from apps.privacy.services import pii_scan_backfill


@datapunk_task()
def run_export(user_id: int, export_id: int) -> None:
    """Write one export, as its user (row-level security: nothing of anyone else).
    A no-op if the export is gone, finished, or being written elsewhere."""
    with user_context(user_id):
        export_run(export_id=export_id)


@datapunk_task()
def run_user_data_delete(
    user_id: int, actor_id: int | None = None, ip: str | None = None, delete_account: bool = False
) -> None:
    """Delete-my-data, as the user. Idempotent: a rerun removes nothing more.
    An import running meanwhile (started after the request was checked) is
    waited for: the task retries later."""
    with user_context(user_id):
        try:
            counts = user_data_delete(
                user_id=user_id, actor_id=actor_id, ip=ip, delete_account=delete_account
            )
        except DeletionBlocked as exc:
            raise run_user_data_delete.retry(countdown=60, exc=exc) from None
    publish(
        user_id,
        {
            "type": "delete.finished",
            "data": {"rows": sum(counts.values()), "account_deleted": delete_account},
        },
    )


# One run scans this many events, then queues the next run: a worker is never
# held for hours by one person's archive, and other users' scans get a turn.
BACKFILL_EVENTS_PER_RUN = 50_000


# A lost database connection loses at most the batch in flight: retrying
# resumes from the cursor (scans are idempotent).
@datapunk_task()
def pii_scan_user(user_id: int) -> None:
    """Scan the user's events above the scan cursor; re-queue itself while more remain.

    Returns quietly if the user is gone (deleted since the task was queued).
    """
    if not get_user_model().objects.filter(pk=user_id).exists():
        return
    with user_context(user_id):
        result = pii_scan_backfill(user_id=user_id, max_events=BACKFILL_EVENTS_PER_RUN)
    if result.more:
        pii_scan_user.delay(user_id)
