from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.stream.events import feed_group

# Close code for "not logged in" (4000-4999 are the application's own).
UNAUTHENTICATED = 4401


class FeedConsumer(AsyncJsonWebsocketConsumer):
    """The live feed: authenticate the session user, join their group, forward."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHENTICATED)
            return
        self.group = feed_group(user.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # The feed only sends; whatever a client sends (JSON or not) is ignored,
        # never decoded: a frame that is not JSON closed the socket with 1011.
        return None

    async def feed_message(self, event: dict) -> None:
        await self.send_json(event["message"])
