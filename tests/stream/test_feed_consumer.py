"""The live feed over the real Redis channel layer."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from apps.core.feed import publish
from datapunk.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def _session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _communicator(cookie: str | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/feed/", headers=headers)


async def test_message_published_to_a_user_reaches_their_socket_only(make_user):
    owner = await sync_to_async(make_user)("owner")
    outsider = await sync_to_async(make_user)("outsider")
    owner_socket = _communicator(await sync_to_async(_session_cookie)(owner))
    outsider_socket = _communicator(await sync_to_async(_session_cookie)(outsider))
    assert (await owner_socket.connect())[0]
    assert (await outsider_socket.connect())[0]

    message = {"type": "import.progress", "data": {"import_id": 7, "bytes_done": 10}}
    await sync_to_async(publish)(owner.pk, message)

    assert await owner_socket.receive_json_from(timeout=5) == message
    assert await outsider_socket.receive_nothing(timeout=0.5)
    await owner_socket.disconnect()
    await outsider_socket.disconnect()


async def test_anonymous_socket_is_refused():
    socket = _communicator(None)
    connected, code = await socket.connect()
    assert not connected
    assert code == 4401


async def test_the_layer_is_redis():
    from channels.layers import get_channel_layer
    from channels_redis.core import RedisChannelLayer

    assert isinstance(get_channel_layer(), RedisChannelLayer)


async def test_a_frame_from_the_client_is_ignored_not_a_crash(make_user):
    owner = await sync_to_async(make_user)("owner")
    socket = _communicator(await sync_to_async(_session_cookie)(owner))
    assert (await socket.connect())[0]
    await socket.send_to(text_data="not json {")
    await socket.send_to(bytes_data=b"\xff\x00")
    await socket.send_to(text_data='{"type": "feed.message", "message": "forged"}')
    assert await socket.receive_nothing(timeout=0.5)  # no close, no echo
    message = {"type": "import.progress", "data": {"import_id": 1}}
    await sync_to_async(publish)(owner.pk, message)
    assert await socket.receive_json_from(timeout=5) == message
    await socket.disconnect()


async def test_a_user_may_hold_only_so_many_feed_sockets(make_user, settings):
    settings.DATAPUNK_FEED_SOCKETS_PER_USER = 3
    owner = await sync_to_async(make_user)("owner")
    cookie = await sync_to_async(_session_cookie)(owner)
    sockets = [_communicator(cookie) for _ in range(3)]
    for socket in sockets:
        assert (await socket.connect())[0]
    extra = _communicator(cookie)
    assert await extra.connect() == (False, 4429)
    # Closing one frees its place.
    await sockets[0].disconnect()
    again = _communicator(cookie)
    assert (await again.connect())[0]
    for socket in [*sockets[1:], again]:
        await socket.disconnect()
