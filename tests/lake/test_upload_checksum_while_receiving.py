"""A part may have 50 GB: completing an upload and starting its import read none
of it inside the request; the checksum is kept while the chunks arrive, and a
worker hashes the file only when that running checksum was lost."""

from __future__ import annotations

import hashlib
import os
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from apps.lake.models import Import, Upload
from apps.lake.tasks import run_upload_verify
from apps.lake.uploads import running_digests, upload_path
from tests.acting import one_of

pytestmark = pytest.mark.django_db

PART_BYTES = 6 << 20  # big enough that reading it once shows in the counters below


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture(autouse=True)
def _no_digest_left_from_other_tests():
    running_digests.clear()
    yield
    running_digests.clear()


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """What the views hand to the broker (the worker's half is called by the test)."""
    sent: list[tuple] = []
    monkeypatch.setattr(run_upload_verify, "delay", lambda *args: sent.append(args))
    return sent


def _big_part(folder: Path) -> bytes:
    """A Takeout zip with an incompressible stored member of PART_BYTES."""
    path = folder / "takeout-big.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Takeout/Chrome/History.json", '{"Browser History": []}')
        archive.writestr("Takeout/Drive/filler.bin", os.urandom(PART_BYTES), zipfile.ZIP_STORED)
    return path.read_bytes()


@contextmanager
def bytes_read():
    """Bytes this process read from files meanwhile (Linux's rchar), as a one-item list."""

    def rchar() -> int:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
        raise AssertionError("no rchar in /proc/self/io")

    counted = [0]
    before = rchar()
    yield counted
    counted[0] = rchar() - before


def _announce(client, data: bytes) -> int:
    response = client.post(
        "/api/uploads/",
        {
            "filename": "takeout-big.zip",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _chunk(client, upload_id: int, offset: int, data: bytes):
    return client.put(
        f"/api/uploads/{upload_id}/chunk/",
        data,
        content_type="application/octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def _send(client, upload_id: int, data: bytes, *, restart_after_first: bool = False) -> None:
    third = len(data) // 3
    for n, start in enumerate(range(0, len(data), third)):
        if restart_after_first and n == 1:
            running_digests.clear()  # the server process restarted between two chunks
        response = _chunk(client, upload_id, start, data[start : start + third])
        assert response.status_code == 200, response.content


def test_completing_and_importing_read_none_of_the_part_in_the_request(
    client, owner, tmp_path, queued, monkeypatch
):
    from apps.lake.tasks import run_takeout_import

    data = _big_part(tmp_path)
    client.force_login(owner)
    upload_id = _announce(client, data)
    _send(client, upload_id, data)

    with bytes_read() as completing:
        done = client.post(f"/api/uploads/{upload_id}/complete/")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "complete"
    assert queued == []  # nothing left for a worker to hash
    assert completing[0] < PART_BYTES // 4, completing

    monkeypatch.setattr(run_takeout_import, "delay", lambda *args: None)
    with bytes_read() as importing:
        started = client.post(
            "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
        )
    assert started.status_code == 201, started.content
    assert importing[0] < PART_BYTES // 4, importing
    run = one_of(owner, Import, pk=started.json()["id"])
    assert run.parts[0]["sha256"] == hashlib.sha256(data).hexdigest()


def test_after_a_restart_between_chunks_a_worker_hashes_the_file(client, owner, tmp_path, queued):
    data = _big_part(tmp_path)
    client.force_login(owner)
    upload_id = _announce(client, data)
    _send(client, upload_id, data, restart_after_first=True)

    with bytes_read() as completing:
        answer = client.post(f"/api/uploads/{upload_id}/complete/")
    assert answer.status_code == 202, answer.content
    assert answer.json()["status"] == "verifying"
    assert completing[0] < PART_BYTES // 4, completing
    assert queued == [(upload_id,)]
    # Nothing more is taken while the worker reads the file.
    assert _chunk(client, upload_id, len(data), b"x").status_code == 400
    started = client.post(
        "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
    )
    assert started.status_code == 400 and "not completed" in str(started.json())

    with bytes_read() as verifying:
        run_upload_verify(upload_id)  # what the worker does with it
    assert verifying[0] >= len(data)  # the worker, not the request, read the part
    body = client.get(f"/api/uploads/{upload_id}/").json()
    assert body["status"] == "complete" and body["problem"] == ""
    started = client.post(
        "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
    )
    assert started.status_code == 201, started.content


def test_a_mismatch_found_by_the_worker_discards_the_data_and_says_why(
    client, owner, tmp_path, queued
):
    data = _big_part(tmp_path)
    client.force_login(owner)
    upload_id = _announce(client, data)
    corrupt = data[:-1] + bytes([data[-1] ^ 0xFF])
    _send(client, upload_id, corrupt, restart_after_first=True)
    assert client.post(f"/api/uploads/{upload_id}/complete/").status_code == 202

    run_upload_verify(upload_id)

    body = client.get(f"/api/uploads/{upload_id}/").json()
    assert body["status"] == "receiving" and body["received"] == 0
    assert (
        f"checksum mismatch: received data has sha256 {hashlib.sha256(corrupt).hexdigest()}"
        in (body["problem"])
    )
    assert upload_path(one_of(owner, Upload, pk=upload_id)).stat().st_size == 0
    # The client sends it again, now without a restart: decided at once.
    _send(client, upload_id, data)
    done = client.post(f"/api/uploads/{upload_id}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "complete"


def test_a_refused_chunk_leaves_the_running_checksum_as_it_was(client, owner, queued):
    data = b"0123456789"
    client.force_login(owner)
    upload_id = _announce(client, data)
    assert _chunk(client, upload_id, 0, data[:5]).status_code == 200
    refused = _chunk(client, upload_id, 5, b"56789-too-long")
    assert refused.status_code == 400
    assert _chunk(client, upload_id, 5, data[5:]).status_code == 200
    done = client.post(f"/api/uploads/{upload_id}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "complete", done.content
    assert queued == []


def test_a_broker_outage_while_verifying_answers_503_and_completing_again_queues_again(
    client, owner, tmp_path, monkeypatch
):
    data = b"abcdefghij" * 10
    client.force_login(owner)
    upload_id = _announce(client, data)
    _chunk(client, upload_id, 0, data[:50])
    running_digests.clear()
    _chunk(client, upload_id, 50, data[50:])

    def broker_down(*args):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(run_upload_verify, "delay", broker_down)
    down = client.post(f"/api/uploads/{upload_id}/complete/")
    assert down.status_code == 503 and down.headers["Retry-After"] == "60"
    assert down.json()["upload"]["status"] == "verifying"

    sent: list[tuple] = []
    monkeypatch.setattr(run_upload_verify, "delay", lambda *args: sent.append(args))
    assert client.post(f"/api/uploads/{upload_id}/complete/").status_code == 202
    assert sent == [(upload_id,)]
