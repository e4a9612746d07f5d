"""The one place that publishes to websocket groups (the live feed).

Everything a user's browser should hear about (import progress, new records)
goes through ``publish``; the consumer only forwards.
"""

from __future__ import annotations

import logging
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
    ]
    data: dict[str, Any]


def feed_group(user_id: int) -> str:
    return f"feed.user.{user_id}"


def publish(user_id: int, message: FeedMessage) -> None:
    """Send ``message`` to every open feed of ``user_id``.

    Best effort: a live feed is a view, not a record, so a Redis hiccup is
    logged and never fails the work that published.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            feed_group(user_id), {"type": "feed.message", "message": message}
        )
    except Exception:
        logger.warning("live feed publish failed for user %s", user_id, exc_info=True)
