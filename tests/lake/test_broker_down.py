"""With the broker down, a request whose row is stored answers 503 (or says so), never 500."""

from __future__ import annotations

import hashlib

import pytest
from kombu.exceptions import OperationalError

from apps.lake.models import Import
from tests.acting import one_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    from apps.connectors.tasks import sync_connection
    from apps.lake.tasks import run_takeout_import

    monkeypatch.setattr(run_takeout_import, "delay", refuse)
    monkeypatch.setattr(sync_connection, "delay", refuse)


def test_an_import_answers_503_with_the_stored_row(
    client, owner, sample_zip, settings, tmp_path, broker_down
):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    data = sample_zip.read_bytes()
    client.force_login(owner)
    announced = client.post(
        "/api/uploads/",
        {"filename": "t.zip", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        content_type="application/json",
    ).json()["id"]
    client.put(
        f"/api/uploads/{announced}/chunk/",
        data,
        content_type="application/octet-stream",
        HTTP_UPLOAD_OFFSET="0",
    )
    client.post(f"/api/uploads/{announced}/complete/")

    response = client.post(
        "/api/imports/", {"uploads": [announced]}, content_type="application/json"
    )

    assert response.status_code == 503
    body = response.json()
    run = one_of(owner, Import)
    assert body["import"]["id"] == run.pk
    assert "task queue is unavailable" in body["detail"]
