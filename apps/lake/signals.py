"""What the lake tells other apps after rows are committed.

Receivers (PII scanning, embeddings, ...) queue their own Celery work; they
must be quick and must not fail the sender. Both are sent after commit.
"""

from django.dispatch import Signal

# Events stored by a stream (connector sync, webhook, ingest):
# kwargs user_id: int, source: str, event_ids: list[int]
events_stored = Signal()

# A Takeout import finished (status done); its events are in place:
# kwargs user_id: int, import_id: int
import_finished = Signal()
