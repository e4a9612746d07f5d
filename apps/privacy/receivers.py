"""Queue PII scans when the lake stores events. Quick, and never fail the sender."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from apps.lake.signals import events_stored, import_finished

logger = logging.getLogger(__name__)


@receiver(import_finished, dispatch_uid="privacy.pii_scan_after_import")
def pii_scan_after_import(sender: Any, *, user_id: int, import_id: int, **kwargs: Any) -> None:
    from apps.privacy.tasks import pii_scan_user

    def queue() -> None:
        try:
            pii_scan_user.delay(user_id)
        except Exception:  # a broker outage must not fail the import; the next import rescans
            logger.exception("could not queue the PII scan after import %s", import_id)

    transaction.on_commit(queue)


@receiver(events_stored, dispatch_uid="privacy.pii_scan_stored_events")
def pii_scan_after_store(
    sender: Any, *, user_id: int, source: str, event_ids: list[int], **kwargs: Any
) -> None:
    from apps.privacy.tasks import pii_scan_stored_events

    def queue() -> None:
        try:
            pii_scan_stored_events.delay(user_id, list(event_ids))
        except Exception:  # the next backfill (pii_scan_user, manage.py pii_scan) covers them
            logger.exception("could not queue the PII scan of %d %s events", len(event_ids), source)

    transaction.on_commit(queue)
