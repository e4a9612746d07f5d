"""The one place that publishes to websocket groups (the live feed).

Everything a user's browser should hear about (import progress, new records)
goes through ``publish``; the consumer (apps/stream/consumers.py) only forwards.
The message types are registered by the apps that publish them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


class FeedMessage(TypedDict):
    # One of the registered message types (register_message_types).
    type: str
    data: dict[str, Any]


# Each app names the types it publishes, in its AppConfig.ready(): the feed is
# the ground floor's, what travels on it belongs to the apps above.
_message_types: set[str] = set()


def register_message_types(*types: str) -> None:
    """Allow ``types`` on the live feed; idempotent."""
    _message_types.update(types)


def message_types() -> frozenset[str]:
    return frozenset(_message_types)


class UnknownFeedMessage(ValueError):
    """A message type no app registered: a programming error, never sent."""


def feed_group(user_id: int) -> str:
    return f"feed.user.{user_id}"


# Set by feed_messages_held(): publish() appends here instead of sending.
_held: ContextVar[list[tuple[int, FeedMessage]] | None] = ContextVar("feed_held", default=None)


def publish(user_id: int, message: FeedMessage) -> None:
    """Send ``message`` to every open feed of ``user_id``.

    Best effort: a live feed is a view, not a record, so a Redis hiccup is
    logged and never fails the work that published. A type no app registered
    raises UnknownFeedMessage: that is a bug, not a hiccup.
    """
    if message["type"] not in _message_types:
        raise UnknownFeedMessage(f"live-feed message type {message['type']!r} is not registered")
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
