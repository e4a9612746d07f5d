"""The one place that publishes to websocket groups (the live feed).

Everything a user's browser should hear about (import progress, new records)
goes through ``publish``; the consumer only forwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


class FeedMessage(TypedDict):
    type: Literal[
        "import.progress",
        "import.finished",
        "records.stored",
        # apps/privacy: export progress, and the end of a delete-my-data
        "export.progress",
        "export.finished",
        "delete.finished",
        # apps/connectors: a connection needs consent again, a sync finished
        "connector.status",
        # apps/stream/devices: a phone's new fixes, for the live map
        "location.stored",
    ]
    data: dict[str, Any]


def feed_group(user_id: int) -> str:
    return f"feed.user.{user_id}"


# Set by feed_messages_held(): publish() appends here instead of sending.
_held: ContextVar[list[tuple[int, FeedMessage]] | None] = ContextVar("feed_held", default=None)


def publish(user_id: int, message: FeedMessage) -> None:
    """Send ``message`` to every open feed of ``user_id``.

    Best effort: a live feed is a view, not a record, so a Redis hiccup is
    logged and never fails the work that published.
    """
    held = _held.get()
    if held is not None:
        held.append((user_id, message))
        return
    try:
        async_to_sync(publish_held)([(user_id, message)])
    except Exception:  # no way into an event loop from here: still best effort
        logger.warning("live feed publish failed for user %s", user_id, exc_info=True)


@contextmanager
def feed_messages_held() -> Iterator[list[tuple[int, FeedMessage]]]:
    """Keep what is published inside, in order, for ``publish_held`` to send.

    For sync code run from an event loop's worker thread (the ingest group
    commit): the loop then sends the messages itself, instead of the thread
    handing each one to the loop and waiting for it (async_to_sync), which
    holds the thread for as long as the loop is busy with other requests.
    """
    held: list[tuple[int, FeedMessage]] = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


async def publish_held(messages: list[tuple[int, FeedMessage]]) -> None:
    """Send held messages in order; best effort, like ``publish``."""
    layer = get_channel_layer()
    if layer is None:
        return
    for user_id, message in messages:
        try:
            await layer.group_send(
                feed_group(user_id), {"type": "feed.message", "message": message}
            )
        except Exception:
            logger.warning("live feed publish failed for user %s", user_id, exc_info=True)
