"""An export's progress is visible to another connection while a table is being
written (the progress page reads it from its own), not only once a table is done."""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.core.db.context import system_context, user_context
from apps.privacy import exports
from apps.privacy.exports import export_create, export_path
from apps.privacy.models import Export
from apps.privacy.tasks import run_export
from tests.acting import refreshed

# Committed for real: another connection sees only what the export commits.
pytestmark = pytest.mark.django_db(transaction=True)

POINTS = 240
CHUNK = 40


@pytest.fixture(autouse=True)
def export_dir(tmp_path, settings):
    settings.EXPORT_DIR = tmp_path / "exports"


def test_rows_written_are_seen_by_another_connection_while_a_table_is_written(
    alice, tmp_path, monkeypatch, import_takeout
):
    import_takeout(alice, points=POINTS)
    with user_context(alice.pk):
        export = export_create(user_id=alice.pk)
    monkeypatch.setattr(exports, "CHUNK", CHUNK)
    monkeypatch.setattr(exports, "REPORT_INTERVAL", 0.0)  # a message after every chunk

    # One thread, so one connection of its own, as the progress page has.
    other = ThreadPoolExecutor(max_workers=1)

    def read_elsewhere(user_id: int, export_id: int) -> tuple[int, int]:
        with user_context(user_id):
            row = Export.objects.get(pk=export_id)
        return row.rows_written, row.tables_done

    seen: list[tuple[dict, tuple[int, int]]] = []
    publish = exports.publish

    def publish_and_look(user_id: int, message: dict) -> None:
        if message["type"] == "export.progress":
            data = message["data"]
            seen.append((data, other.submit(read_elsewhere, user_id, data["export_id"]).result()))
        publish(user_id, message)

    monkeypatch.setattr(exports, "publish", publish_and_look)
    try:
        run_export(alice.pk, export.pk)
    finally:
        other.submit(lambda: connection.close()).result()  # that thread's own connection
        other.shutdown()

    with system_context():
        refreshed(export)
    assert export.status == Export.Status.DONE, export.error
    with zipfile.ZipFile(export_path(export)) as archive:
        assert "lake_locationpoint.json" in archive.namelist()
    assert export.counts["lake_locationpoint"] == POINTS

    # Every message says what another connection can already read.
    for data, (rows_elsewhere, tables_elsewhere) in seen:
        assert (rows_elsewhere, tables_elsewhere) == (data["rows_written"], data["tables_done"])
    # Inside the points table (tables_done unchanged) the count moved chunk by chunk.
    tables = sorted(export.counts)
    points_index = tables.index("lake_locationpoint")
    inside_points = {rows for _, (rows, done) in seen if done == points_index and rows > 0}
    assert len(inside_points) >= POINTS // CHUNK, seen
