"""What the lake tells other apps after rows are committed.

Receivers (embeddings, daily series, ...) queue their own Celery work; they
must be quick and must not fail the sender. Both are sent after commit.
"""

from django.dispatch import Signal

# Events stored by a stream (connector sync, webhook, ingest):
# kwargs user_id: int, source: str, event_ids: list[int],
#        span: (first, last) occurred_at of those events (datetimes)
events_stored = Signal()

# A Takeout import finished (status done); its events are in place:
# kwargs user_id: int, import_id: int
import_finished = Signal()
