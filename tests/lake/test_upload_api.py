"""Resumable chunked upload, checksum verification, and starting an import from uploads."""

import hashlib

import pytest

from apps.lake.models import Import, LocationPoint, Upload
from apps.lake.tasks import run_takeout_import
from tests.acting import (
    all_of,
    as_user,
    count_of,
    one_of,
    refreshed,
    takeout_import,
    takeout_prepare,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def _announce(client, data: bytes, name="takeout-001.zip"):
    response = client.post(
        "/api/uploads/",
        {"filename": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _chunk(client, upload_id, offset, data):
    return client.put(
        f"/api/uploads/{upload_id}/chunk/",
        data,
        content_type="application/octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def test_upload_resumes_after_a_dropped_connection_and_imports(
    client, owner, sample_zip, monkeypatch
):
    client.force_login(owner)
    data = sample_zip.read_bytes()
    upload_id = _announce(client, data)
    third = len(data) // 3

    assert _chunk(client, upload_id, 0, data[:third]).json()["received"] == third
    # The connection drops; the client does not know what arrived and asks.
    assert client.get(f"/api/uploads/{upload_id}/").json()["received"] == third
    # A chunk from the wrong offset is refused and says where to go on.
    wrong = _chunk(client, upload_id, third + 10, data[third + 10 :])
    assert wrong.status_code == 409
    assert wrong.json()["received"] == third
    assert _chunk(client, upload_id, third, data[third:]).json()["received"] == len(data)

    done = client.post(f"/api/uploads/{upload_id}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "complete"

    queued: list[tuple] = []
    monkeypatch.setattr(run_takeout_import, "delay", lambda *args: queued.append(args))
    started = client.post(
        "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
    )
    assert started.status_code == 201, started.content
    assert queued == [(started.json()["id"],)]  # queued once, after the row was stored
    run_takeout_import(started.json()["id"])  # what the worker does with it
    run = one_of(owner, Import, pk=started.json()["id"])
    assert run.status == Import.Status.DONE
    assert run.parts[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert count_of(owner, LocationPoint) == 300
    detail = client.get(f"/api/imports/{run.pk}/").json()
    assert {entry["path"] for entry in detail["entries"]} >= {"Takeout/Chrome/History.json"}


def test_checksum_mismatch_is_refused_and_data_discarded(client, owner):
    client.force_login(owner)
    data = b"PK\x05\x06" + bytes(18)
    upload_id = _announce(client, data)
    _chunk(client, upload_id, 0, b"X" * len(data))
    response = client.post(f"/api/uploads/{upload_id}/complete/")
    assert response.status_code == 400
    assert "checksum mismatch" in response.json()["detail"]
    assert one_of(owner, Upload, pk=upload_id).received == 0


def test_incomplete_upload_cannot_be_imported(client, owner):
    client.force_login(owner)
    upload_id = _announce(client, b"0123456789")
    _chunk(client, upload_id, 0, b"01234")
    assert (
        "only 5 of 10 bytes" in client.post(f"/api/uploads/{upload_id}/complete/").json()["detail"]
    )
    response = client.post(
        "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "not completed" in str(response.json())


def test_more_data_than_announced_is_refused(client, owner):
    client.force_login(owner)
    upload_id = _announce(client, b"0123")
    response = _chunk(client, upload_id, 0, b"0123456789")
    assert response.status_code == 400
    assert "more data than the announced 4 bytes" in response.json()["detail"]


def test_uploads_are_private(client, owner, outsider):
    client.force_login(owner)
    upload_id = _announce(client, b"abc")
    client.force_login(outsider)
    assert client.get(f"/api/uploads/{upload_id}/").status_code == 404
    assert _chunk(client, upload_id, 0, b"abc").status_code == 404
    response = client.post(
        "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
    )
    assert response.status_code == 400


def test_a_hostile_upload_is_rejected_when_the_import_is_asked_for(client, owner, tmp_path):
    import zipfile

    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.json", "{}")
    data = path.read_bytes()
    client.force_login(owner)
    upload_id = _announce(client, data, name="evil.zip")
    _chunk(client, upload_id, 0, data)
    client.post(f"/api/uploads/{upload_id}/complete/")
    response = client.post(
        "/api/imports/", {"uploads": [upload_id]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "unsafe member path" in response.json()["detail"]
    assert count_of(owner, Import) == 0


def test_anonymous_clients_cannot_upload(client):
    assert client.post("/api/uploads/", {}, content_type="application/json").status_code == 403


def test_quarantined_items_of_an_import_are_listed_for_their_owner_only(
    client, owner, outsider, sample_zip
):

    run = takeout_import(owner, sample_zip)
    assert run is not None and run.records_quarantined == 1

    client.force_login(owner)
    body = client.get(f"/api/imports/{run.pk}/quarantine/").json()
    assert body["count"] == 1
    [item] = body["results"]
    assert item["path"] == "Takeout/My Activity/Search/MyActivity.json"
    assert "yesterday-ish" in item["reason"] + item["excerpt"]

    client.force_login(outsider)
    assert client.get(f"/api/imports/{run.pk}/quarantine/").status_code == 404


def test_an_upload_is_deleted_only_once_its_import_no_longer_reads_it(
    client, owner, outsider, sample_zip
):
    from apps.lake.uploads import upload_path

    data = sample_zip.read_bytes()
    client.force_login(owner)
    upload_id = _announce(client, data)
    _chunk(client, upload_id, 0, data)
    client.post(f"/api/uploads/{upload_id}/complete/")
    client.post("/api/imports/", {"uploads": [upload_id]}, content_type="application/json")
    upload = one_of(owner, Upload, pk=upload_id)
    path = upload_path(upload)
    assert path.is_file() and one_of(owner, Import, pk=upload.import_run_id).status == "pending"

    response = client.delete(f"/api/uploads/{upload_id}/")
    assert response.status_code == 409
    assert "still reads this upload" in response.json()["detail"]
    assert path.is_file()

    run_takeout_import(upload.import_run_id)
    client.force_login(outsider)
    assert client.delete(f"/api/uploads/{upload_id}/").status_code == 404
    client.force_login(owner)
    assert client.delete(f"/api/uploads/{upload_id}/").status_code == 204
    assert not path.parent.exists()
    assert count_of(owner, Upload, pk=upload_id) == 0
    run = one_of(owner, Import, pk=upload.import_run_id)
    assert run.status == Import.Status.DONE and run.records_written > 0  # the history stays


@pytest.mark.parametrize("name", ["..", "a/../..", ".", "/", "   ", "..\\.."])
def test_a_filename_that_names_no_file_is_refused(client, owner, name):
    client.force_login(owner)
    response = client.post(
        "/api/uploads/",
        {"filename": name, "size": 3, "sha256": hashlib.sha256(b"abc").hexdigest()},
        content_type="application/json",
    )
    assert response.status_code == 400
    # The serializer refuses a blank name itself; the rest the service words.
    assert "filename" in str(response.json())
    assert count_of(owner, Upload) == 0


def test_an_empty_chunk_adds_nothing(client, owner):
    client.force_login(owner)
    upload_id = _announce(client, b"abc")
    response = _chunk(client, upload_id, 0, b"")
    assert response.status_code == 200, response.content
    assert response.json()["received"] == 0
    assert _chunk(client, upload_id, 0, b"abc").json()["received"] == 3


def _complete_upload(client, data: bytes, name: str) -> int:
    upload_id = _announce(client, data, name=name)
    _chunk(client, upload_id, 0, data)
    assert client.post(f"/api/uploads/{upload_id}/complete/").status_code == 200
    return upload_id


def test_an_upload_read_by_two_imports_is_kept_until_both_have_finished(
    client, owner, sample_zip, tmp_path
):
    from .conftest import make_zip

    client.force_login(owner)
    shared = _complete_upload(client, sample_zip.read_bytes(), "takeout-001.zip")
    other = make_zip(
        tmp_path / "other.zip", {"Takeout/Chrome/History.json": '{"Browser History": []}'}
    )
    second = _complete_upload(client, other.read_bytes(), "takeout-002.zip")

    def start(ids):
        response = client.post("/api/imports/", {"uploads": ids}, content_type="application/json")
        assert response.status_code == 201, response.content
        return response.json()["id"]

    first_run, second_run = start([shared]), start([shared, second])
    run_takeout_import(second_run)

    response = client.delete(f"/api/uploads/{shared}/")
    assert response.status_code == 409
    assert f"import {first_run} still reads this upload" in response.json()["detail"]

    run_takeout_import(first_run)
    assert one_of(owner, Import, pk=first_run).status == Import.Status.DONE
    assert client.delete(f"/api/uploads/{shared}/").status_code == 204


def test_an_import_names_each_upload_once(client, owner):
    client.force_login(owner)
    upload_id = _complete_upload(client, b"abc", "a.zip")
    response = client.post(
        "/api/imports/", {"uploads": [upload_id, upload_id]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "name each upload once" in str(response.json())


def test_quarantine_reasons_and_excerpts_are_shown_cut_and_masked(client, owner, sample_zip):
    from apps.lake.models import ImportEntry, Quarantine

    run = takeout_import(owner, sample_zip)
    entry = all_of(owner, ImportEntry, "path", import_run=run)[0]
    # What a parser's error context looks like when the bad value is personal.
    with as_user(owner):
        stored = Quarantine.objects.create(
            user=owner,
            entry=entry,
            reason="visit time: 'write to alice.smith@example.org' is not an ISO time",
            excerpt='{"title": "paid with 4111 1111 1111 1111", "note": "' + "x" * 5000 + '"}',
        )
    client.force_login(owner)
    items = client.get(f"/api/imports/{run.pk}/quarantine/").json()["results"]
    [item] = [item for item in items if item["id"] == stored.pk]
    page = client.get(f"/imports/{run.pk}/").content.decode()
    for shown in (item["reason"] + item["excerpt"], page):
        assert "alice.smith@example.org" not in shown
        assert "4111 1111 1111 1111" not in shown
    assert "a***@example.org" in item["reason"] and "1111" in item["excerpt"]
    assert len(item["excerpt"]) <= 200
    refreshed(stored)
    assert "alice.smith@example.org" in stored.reason  # kept as it was, for the export


def test_an_imports_progress_is_read_in_the_feeds_shape_by_its_owner_only(
    client, owner, outsider, sample_zip
):
    # What a page reads once its feed socket is open (static/js/imports.js), for
    # the messages it missed: the same fields as the feed's import.progress data.
    from apps.lake.services import takeout_import_run

    run = takeout_prepare(owner, sample_zip)
    client.force_login(owner)
    before = client.get(f"/api/imports/{run.pk}/progress/").json()
    assert (before["import_id"], before["status"], before["records_written"]) == (
        run.pk,
        "pending",
        0,
    )

    with as_user(owner):  # as the import task runs it
        takeout_import_run(import_id=run.pk)
    after = client.get(f"/api/imports/{run.pk}/progress/").json()
    assert after["status"] == "done"
    assert after["records_written"] == 300 + 34 + 1  # points, events, the walk's steps
    assert after["records_quarantined"] == 1
    assert after["bytes_done"] == after["bytes_total"] > 0

    client.force_login(outsider)
    assert client.get(f"/api/imports/{run.pk}/progress/").status_code == 404


def test_the_import_page_does_not_wait_for_the_pii_model_while_it_loads(
    client, owner, sample_zip, monkeypatch
):
    # In daphne the model loads in the background for tens of seconds on a busy
    # machine; the page waited for it, so a running import's page came so late
    # that its feed socket missed the import's end.
    import threading

    from apps.lake.quarantine_display import WITHHELD
    from apps.privacy.pii import preload as pii_preload

    run = takeout_import(owner, sample_zip)
    assert run is not None and run.records_quarantined == 1
    loaded = threading.Event()
    loading = threading.Thread(target=loaded.wait, daemon=True)  # a preload under way
    loading.start()
    monkeypatch.setattr(pii_preload, "_preload", loading)
    client.force_login(owner)
    try:
        page = client.get(f"/imports/{run.pk}/").content.decode()
        assert WITHHELD in page
        assert "yesterday-ish" not in page  # the quarantined item's own text
    finally:
        loaded.set()
        loading.join()
    page = client.get(f"/imports/{run.pk}/").content.decode()
    assert WITHHELD not in page and "yesterday-ish" in page
