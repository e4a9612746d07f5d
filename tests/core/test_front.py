"""Oversized bodies are refused by the nginx front before daphne buffers them.

daphne reads a whole body into memory before Django sees it; these tests send
bodies far over the limits through the front and measure daphne's memory, and
send one straight to daphne to show what the front saves it from.
"""

from __future__ import annotations

import json
import socket
import time

import psutil
import pytest
import requests

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024


def _send(address, path: str, *, size: int, chunked: bool = False, method: str = "PUT"):
    """Send ``size`` bytes to ``path`` piece by piece; return (status, body) of the answer.

    The server may answer and close before the body is through: that is the
    point, so a broken pipe only ends the sending.
    """
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family) as sock:
        sock.connect(address)
        sock.settimeout(60)
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"{length}\r\nConnection: close\r\n\r\n".encode()
        )
        piece = b"[" * MB
        sent = 0
        try:
            while sent < size:
                if chunked:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    sock.sendall(piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, body, sent


@pytest.fixture
def front(make_front):
    # daphne's memory is measured here: no PII model loading beside it.
    return make_front(pii_preload=False)


def _rss(process) -> int:
    return psutil.Process(process.pid).memory_info().rss


def _settle(front) -> int:
    # A first request loads Django's URL conf and views: measure after it.
    requests.get(f"{front}/health/live", timeout=10)
    time.sleep(0.5)
    return _rss(front.daphne)


def test_an_anonymous_oversized_chunk_is_refused_before_daphne_sees_it(front):
    port = int(front.rsplit(":", 1)[1])
    before = _settle(front)
    started = time.monotonic()
    status, body, sent = _send(("127.0.0.1", port), "/api/uploads/1/chunk/", size=600 * MB)
    assert status == 413
    assert "at most" in json.loads(body)["detail"]
    # Refused on the Content-Length: the 600 MB were never read.
    assert time.monotonic() - started < 10
    assert _rss(front.daphne) - before < 10 * MB


def test_a_chunked_body_over_the_json_limit_is_cut_off(front):
    port = int(front.rsplit(":", 1)[1])
    before = _settle(front)
    status, _, sent = _send(
        ("127.0.0.1", port), "/api/imports/", size=64 * MB, chunked=True, method="POST"
    )
    assert status == 413
    assert _rss(front.daphne) - before < 10 * MB


def test_without_the_front_daphne_buffers_the_whole_body(front):
    # The baseline the front exists for: the same kind of body straight to daphne.
    before = _settle(front)
    status, _, sent = _send(front.socket_path, "/api/uploads/1/chunk/", size=64 * MB)
    assert sent == 64 * MB
    assert status in (403, 413)  # refused, but only after all of it was read into memory
    assert _rss(front.daphne) - before > 40 * MB


def test_a_chunk_within_the_limit_passes_the_front(front, make_user):
    make_user("sender", password="a long enough password")
    session = requests.Session()
    token = _token_for("sender")
    session.headers["Authorization"] = f"Token {token}"
    data = b"z" * (5 * MB)
    import hashlib

    created = session.post(
        f"{front}/api/uploads/",
        json={
            "filename": "part.zip",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    sent = session.put(
        f"{front}/api/uploads/{created.json()['id']}/chunk/",
        data=data,
        headers={"Upload-Offset": "0", "Content-Type": "application/octet-stream"},
        timeout=60,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["received"] == len(data)


def _token_for(username: str) -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=get_user_model().objects.get(username=username)).key
