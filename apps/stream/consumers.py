import time

import redis.asyncio as aioredis
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from apps.core.feed import feed_group

# Close code for "not logged in" (4000-4999 are the application's own).
UNAUTHENTICATED = 4401
# Close code for "this user has too many feed sockets open".
TOO_MANY_SOCKETS = 4429
# A socket lives at most as long as the front's read timeout on /ws/ (1 hour):
# entries older than that are of sockets whose process died without a goodbye.
SOCKET_LIFETIME_SECONDS = 3600


def _open_sockets_key(user_id: int) -> str:
    return f"datapunk:feed-sockets:{user_id}"


async def feed_socket_claim(user_id: int, channel_name: str) -> bool:
    """Count this socket among the user's open ones; False when they already have
    DATAPUNK_FEED_SOCKETS_PER_USER (each one is a send buffer in daphne)."""
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    key, now = _open_sockets_key(user_id), time.time()
    try:
        await client.zremrangebyscore(key, 0, now - SOCKET_LIFETIME_SECONDS)
        if await client.zcard(key) >= settings.DATAPUNK_FEED_SOCKETS_PER_USER:
            return False
        await client.zadd(key, {channel_name: now})
        await client.expire(key, SOCKET_LIFETIME_SECONDS)
        return True
    finally:
        await client.aclose()


async def feed_socket_release(user_id: int, channel_name: str) -> None:
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        await client.zrem(_open_sockets_key(user_id), channel_name)
    finally:
        await client.aclose()


class FeedConsumer(AsyncJsonWebsocketConsumer):
    """The live feed: authenticate the session user, join their group, forward."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        if not await feed_socket_claim(user.id, self.channel_name):
            await self.close(code=TOO_MANY_SOCKETS)
            return
        self.user_id = user.id
        self.group = feed_group(user.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if hasattr(self, "user_id"):
            await feed_socket_release(self.user_id, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # The feed only sends; whatever a client sends (JSON or not) is ignored,
        # never decoded: a frame that is not JSON closed the socket with 1011.
        return None

    async def feed_message(self, event: dict) -> None:
        await self.send_json(event["message"])
