"""Download all my data: the zip holds every row the user owns, and nobody else's."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from apps.core.db.context import system_context, user_context
from apps.core.feed import feed_group
from apps.lake.models import Upload
from apps.privacy.exports import export_create, export_path, is_secret_field
from apps.privacy.models import AuditEntry, Export
from apps.privacy.ownership import user_owned_models
from apps.privacy.tasks import run_export
from tests.acting import refreshed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(tmp_path, settings):
    settings.EXPORT_DIR = tmp_path / "exports"


def _ids_in_db(model, user_id: int) -> set[int]:
    with system_context():
        return set(model.objects.filter(user_id=user_id).values_list("pk", flat=True))


def test_export_round_trip_holds_every_row_of_the_user_and_none_of_others(
    alice, bob, tmp_path, import_takeout
):
    import_takeout(alice, points=200)
    import_takeout(bob, points=80)
    with user_context(alice.pk):
        Upload.objects.create(user=alice, filename="a.zip", size=1, sha256="0" * 64)
        export = export_create(user_id=alice.pk)

    run_export(alice.pk, export.pk)  # the task as a worker runs it, under real RLS

    with system_context():
        refreshed(export)
        finished_entry = AuditEntry.objects.get(action="export.finished", user_id=alice.pk)
    assert export.status == Export.Status.DONE, export.error
    with zipfile.ZipFile(export_path(export)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        tables = {
            model._meta.db_table: model for model in user_owned_models(include_append_only=True)
        }
        assert set(manifest["tables"]) == set(tables)
        for table, model in tables.items():
            rows = json.loads(archive.read(f"{table}.json"))
            ids = {row["id"] for row in rows}
            expected = _ids_in_db(model, alice.pk)
            if table == "privacy_auditentry":
                expected.discard(finished_entry.pk)  # written after the zip was closed
            assert ids == expected, table
            assert len(rows) == manifest["tables"][table] == export.counts[table]
            assert all(row["user_id"] == alice.pk for row in rows), table
        for table in ("lake_event", "lake_locationpoint"):
            lines = list(csv.reader(io.TextIOWrapper(archive.open(f"{table}.csv"), "utf-8")))
            assert len(lines) - 1 == manifest["tables"][table] > 0
    # The lake's tables are not empty in it: the round trip means something.
    assert manifest["tables"]["lake_event"] > 0 and manifest["tables"]["lake_locationpoint"] > 0
    assert manifest["tables"]["lake_visit"] > 0 and manifest["tables"]["lake_place"] > 0


def test_a_task_for_someone_elses_export_writes_nothing(alice, bob):
    with user_context(alice.pk):
        export = export_create(user_id=alice.pk)
    run_export(bob.pk, export.pk)  # bob's context cannot even see the row
    with system_context():
        refreshed(export)
    assert export.status == Export.Status.PENDING
    assert not export_path(export).exists()


def test_secret_fields_are_left_out():
    from django.db import models

    assert is_secret_field(models.TextField(name="access_token"))
    assert is_secret_field(models.TextField(name="client_secret"))
    assert is_secret_field(models.TextField(name="refresh_token_encrypted"))
    assert not is_secret_field(models.TextField(name="title"))
    assert not is_secret_field(models.TextField(name="tokenizer"))


def test_export_through_the_api_with_progress_and_owner_only_download(
    client, alice, bob, tmp_path, django_capture_on_commit_callbacks, import_takeout
):
    import_takeout(alice, points=100)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(feed_group(alice.pk), channel)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/privacy/exports/")
    assert response.status_code == 202
    export_id = response.json()["id"]
    assert len(callbacks) == 1  # queued once the row is committed
    run_export(alice.pk, export_id)

    detail = client.get(f"/api/privacy/exports/{export_id}/").json()
    assert detail["status"] == "done" and detail["progress"] == 1.0
    assert detail["download"] == f"/api/privacy/exports/{export_id}/download/"
    download = client.get(detail["download"])
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert json.loads(archive.read("manifest.json"))["export_id"] == export_id

    messages = []
    while not messages or messages[-1]["message"]["type"] != "export.finished":
        messages.append(async_to_sync(layer.receive)(channel))
    kinds = [m["message"]["type"] for m in messages if m["message"]["type"].startswith("export.")]
    assert kinds[0] == "export.progress" and kinds[-1] == "export.finished"

    assert client.get("/api/privacy/exports/abc/download/").status_code == 404
    assert client.get("/api/privacy/exports/99999999/").status_code == 404
    assert client.put(f"/api/privacy/exports/{export_id}/").status_code == 405
    client.force_login(bob)
    assert client.get(f"/api/privacy/exports/{export_id}/").status_code == 404
    assert client.get(f"/api/privacy/exports/{export_id}/download/").status_code == 404
    assert client.get("/api/privacy/exports/").json()["results"] == []
    client.logout()
    assert client.get(f"/api/privacy/exports/{export_id}/download/").status_code in (401, 403)

    with system_context():
        actions = list(AuditEntry.objects.filter(user_id=alice.pk).values_list("action", flat=True))
    assert {"export.requested", "export.finished", "export.downloaded"} <= set(actions)


def test_the_privacy_page_shows_exports_and_the_delete_form(client, alice):
    with user_context(alice.pk):
        export_create(user_id=alice.pk)
    client.force_login(alice)
    page = client.get("/privacy/").content.decode()
    assert "Prepare an export" in page and "Delete my data" in page
    assert 'name="password"' in page and "export.requested" in page
    assert connection.in_atomic_block  # (the test's transaction: nothing leaked out of it)
