"""A feed socket whose client does not read, through the real front (nginx, daphne):
daphne holds at most DATAPUNK_FEED_SEND_BUFFER_BYTES for it, then drops it
(apps/stream/send_buffer.py), and the user can connect again."""

from __future__ import annotations

import base64
import os
import re
import socket
import struct
import time
from urllib.parse import urlsplit

import pytest
import requests
from asgiref.sync import async_to_sync
from channels_redis.core import RedisChannelLayer

from apps.core.feed import feed_group

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long enough password"
MESSAGE_BYTES = 512 * 1024
MESSAGES = 160  # 80 MiB published to the socket, twenty times the bound
MiB = 1024 * 1024


def _session_cookie(front: str, username: str) -> str:
    session = requests.Session()
    form = session.get(f"{front}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        f"{front}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "login": username, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text
    return session.cookies["sessionid"]


def _open_feed(front: str, cookie: str, *, receive_buffer: int | None = None) -> socket.socket:
    """A websocket handshake on /ws/feed/ by hand; returns the socket after the 101."""
    address = urlsplit(front)
    sock = socket.socket()
    if receive_buffer:  # before connect: the window the client offers stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(30)
    sock.connect((address.hostname, address.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/feed/ HTTP/1.1\r\nHost: {address.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {front}\r\nCookie: sessionid={cookie}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: nothing of the first frame is taken
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One unmasked server frame: (opcode, payload)."""

    def exactly(count: int) -> bytes:
        data = b""
        while len(data) < count:
            piece = sock.recv(count - len(data))
            if not piece:
                raise EOFError
            data += piece
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", exactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exactly(8))[0]
    return first & 0x0F, exactly(length)


def _rss_bytes(pid: int) -> int:
    status = open(f"/proc/{pid}/status").read()  # noqa: SIM115 - read at once
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


def _read_until_closed(sock: socket.socket, seconds: float) -> tuple[int, bool]:
    """Read everything there is; (bytes read, whether the connection ended)."""
    total, deadline = 0, time.monotonic() + seconds
    sock.settimeout(1)
    while time.monotonic() < deadline:
        try:
            piece = sock.recv(1 << 20)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return total, True
        if not piece:
            return total, True
        total += len(piece)
    return total, False


def test_a_socket_that_does_not_read_is_dropped_before_daphne_holds_much(
    make_front, child_env, make_user
):
    front = make_front(pii_preload=False)
    user = make_user("slow-reader", password=PASSWORD)
    cookie = _session_cookie(front, "slow-reader")
    slow = _open_feed(front, cookie, receive_buffer=4096)

    layer = RedisChannelLayer(hosts=[child_env["REDIS_URL"]], prefix=child_env["CHANNELS_PREFIX"])
    filler = "x" * MESSAGE_BYTES
    rss_before = _rss_bytes(front.daphne.pid)
    for n in range(MESSAGES):
        message = {"type": "records.stored", "data": {"n": n, "filler": filler}}
        async_to_sync(layer.group_send)(
            feed_group(user.pk), {"type": "feed.message", "message": message}
        )
        time.sleep(0.02)  # the layer keeps 100 messages per channel: let daphne take them
    time.sleep(3)
    grown = _rss_bytes(front.daphne.pid) - rss_before

    # Without the bound daphne holds all 80 MiB for this socket (and keeps the memory).
    assert grown < 30 * MiB, f"daphne grew by {grown // MiB} MiB for one unread socket"
    received, closed = _read_until_closed(slow, seconds=20)
    assert closed, "the socket that did not read is still open"
    assert received < 30 * MiB
    slow.close()

    # Dropped, it no longer counts among the user's sockets, and a new one hears the feed.
    again = _open_feed(front, cookie)
    async_to_sync(layer.group_send)(
        feed_group(user.pk),
        {"type": "feed.message", "message": {"type": "records.stored", "data": {"n": -1}}},
    )
    opcode, payload = _read_frame(again)
    assert opcode == 1 and b'"n": -1' in payload
    again.close()
