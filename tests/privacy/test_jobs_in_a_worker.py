"""Export and delete-my-data in a real Celery worker (a child process: real RLS, no
system context anywhere)."""

from __future__ import annotations

import json
import subprocess
import time
import zipfile

import pytest

from apps.core.db.context import system_context, user_context
from apps.lake.models import Event, LocationPoint
from apps.privacy.exports import export_create, export_path
from apps.privacy.models import Export
from apps.privacy.tasks import run_export, run_user_data_delete
from datapunk.celery import app
from tests.conftest import CELERY_WORKER

pytestmark = pytest.mark.django_db(transaction=True)


def _send(task, args: list, broker: str) -> None:
    with app.connection_for_write(broker) as connection:
        task.apply_async(args=args, connection=connection)


def _wait(condition, worker, log, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        assert worker.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    pytest.fail(f"the worker did not finish: {log.read_text()[-3000:]}")


def test_a_worker_exports_then_deletes_the_users_data(
    alice, bob, tmp_path, child_env, background, settings, import_takeout
):
    export_dir = tmp_path / "exports"
    settings.EXPORT_DIR = export_dir
    child_env["DATAPUNK_EXPORT_DIR"] = str(export_dir)
    import_takeout(alice, points=120)
    import_takeout(bob, points=40)
    with user_context(alice.pk):
        export = export_create(user_id=alice.pk)
    subprocess.run(
        ["redis-cli", "-u", child_env["REDIS_URL"], "flushdb"], check=True, capture_output=True
    )
    worker = background("worker", CELERY_WORKER, child_env)
    log = tmp_path / "worker.log"

    def status() -> str:
        with system_context():
            return Export.objects.get(pk=export.pk).status

    _send(run_export, [alice.pk, export.pk], child_env["REDIS_URL"])
    _wait(lambda: status() in ("done", "failed"), worker, log)
    assert status() == "done"
    with system_context():
        points = LocationPoint.objects.filter(user=alice).count()
        events = Event.objects.filter(user=alice).count()
        bobs = LocationPoint.objects.filter(user=bob).count()
    with zipfile.ZipFile(export_path(export)) as archive:
        tables = json.loads(archive.read("manifest.json"))["tables"]
    assert tables["lake_locationpoint"] == points > 0 and tables["lake_event"] == events > 0

    def alice_rows() -> int:
        with system_context():
            return (
                LocationPoint.objects.filter(user=alice).count()
                + Event.objects.filter(user=alice).count()
            )

    _send(run_user_data_delete, [alice.pk, alice.pk], child_env["REDIS_URL"])
    _wait(lambda: alice_rows() == 0 and not export_path(export).exists(), worker, log)
    with system_context():
        assert LocationPoint.objects.filter(user=bob).count() == bobs
