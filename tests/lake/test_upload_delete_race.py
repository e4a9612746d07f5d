"""DELETE /api/uploads/{id}/ raced against POST /api/imports/ naming that upload.

Two threads, two real database connections, real HTTP views. Whatever the
timing, one of them wins outright: either the import starts and the delete is
refused (the upload and its file stay), or the upload is deleted and the
import is refused. Never an import reading a deleted upload, never an upload
in use deleted.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import zipfile
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client

from apps.lake.models import Import, Upload
from apps.lake.uploads import upload_path
from tests.acting import all_of, as_user, count_of, one_of

pytestmark = pytest.mark.django_db(transaction=True)

# Large enough that checking and hashing the part (which the import does while
# it holds the upload) takes tens of milliseconds: the deletions below arrive
# before, during and after that.
PART_BYTES = 24 * 1024 * 1024


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture(scope="module")
def blob() -> bytes:
    return os.urandom(PART_BYTES)


def _part(blob: bytes, round_no: int) -> bytes:
    """A part of its own per round: the same bytes twice would be the same import."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("Takeout/Chrome/History.json", '{"Browser History": []}')
        archive.writestr("Takeout/Drive/round.txt", str(round_no))
        archive.writestr("Takeout/Drive/blob.bin", blob)
    return buffer.getvalue()


def _completed_upload(user, data: bytes) -> Upload:
    with as_user(user):
        upload = Upload.objects.create(
            user=user,
            filename="takeout.zip",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            received=len(data),
            status=Upload.Status.COMPLETE,
        )
    path = upload_path(upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return upload


def _race(user, upload_id: int, *, import_delay: float, delete_delay: float) -> dict:
    """POST the import and DELETE the upload from two threads; their answers."""
    answers: dict[str, tuple[int, str]] = {}
    barrier = threading.Barrier(2)

    def call(name: str, delay: float, request) -> None:
        client = Client()
        client.force_login(user)
        try:
            barrier.wait()
            time.sleep(delay)
            response = request(client)
            answers[name] = (response.status_code, response.content.decode())
        finally:
            connections.close_all()

    threads = [
        threading.Thread(
            target=call,
            args=(
                "import",
                import_delay,
                lambda c: c.post(
                    "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
                ),
            ),
        ),
        threading.Thread(
            target=call,
            args=("delete", delete_delay, lambda c: c.delete(f"/api/uploads/{upload_id}/")),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


# (import delay, delete delay) in seconds after both threads are ready.
TIMINGS = [(1.0, 0), (0, 0), (0, 0.005), (0, 0.02), (0, 0.05), (0, 0.1), (0, 0.3)]


def test_an_upload_is_never_deleted_under_a_starting_import(owner, blob):
    # Both views answer once before the race, so that no first-request start-up
    # (imports, URL resolving) skews the timings below.
    warm = Client()
    warm.force_login(owner)
    assert (
        warm.post("/api/imports/", {"uploads": []}, content_type="application/json").status_code
        == 400
    )
    assert warm.delete("/api/uploads/0/").status_code == 404
    outcomes = []
    for round_no, (import_delay, delete_delay) in enumerate(TIMINGS):
        upload = _completed_upload(owner, _part(blob, round_no))
        path: Path = upload_path(upload)
        imports_before = {run.pk for run in all_of(owner, Import)}

        answers = _race(owner, upload.pk, import_delay=import_delay, delete_delay=delete_delay)

        timing = f"import after {import_delay}s, delete after {delete_delay}s: {answers}"
        imported, deleted = answers["import"][0], answers["delete"][0]
        new_imports = [run for run in all_of(owner, Import) if run.pk not in imports_before]
        if imported == 201:
            # The import won: the upload, its file and its tie to the import stay.
            assert deleted == 409, timing
            assert "still reads this upload" in answers["delete"][1], timing
            [run] = new_imports
            assert one_of(owner, Upload, pk=upload.pk).import_run_id == run.pk, timing
            assert path.is_file(), timing
            outcomes.append("import")
        else:
            # The deletion won: the import was refused and nothing of it exists.
            assert (imported, deleted) == (400, 204), timing
            assert "no such uploads of yours" in answers["import"][1], timing
            assert not new_imports, timing
            assert count_of(owner, Upload, pk=upload.pk) == 0, timing
            assert not path.exists(), timing
            outcomes.append("delete")
    # The first timing lets the deletion go first, the last the import: both ways were taken.
    assert outcomes[0] == "delete" and outcomes[-1] == "import", outcomes
