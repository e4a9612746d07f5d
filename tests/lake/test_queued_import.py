"""import_takeout without --sync queues the import for a real Celery worker."""

import subprocess
import time
from pathlib import Path

import pytest
import redis

from apps.lake.models import Import
from tests.acting import one_of, refreshed
from tests.conftest import CELERY_WORKER, import_takeout_command

pytestmark = pytest.mark.django_db(transaction=True)


def _import_takeout(archive: Path, username: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        import_takeout_command(archive, username=username, sync=False),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_queued_import_warns_without_a_worker_and_runs_when_one_starts(
    owner, sample_zip, child_env, tmp_path, background
):
    # child_env's Redis database is this test's own: no other worker takes the task.
    redis.Redis.from_url(child_env["REDIS_URL"]).flushdb()
    queued = _import_takeout(sample_zip, owner.username, child_env)
    assert queued.returncode == 0, queued.stderr
    run = one_of(owner, Import)
    assert f"Queued import {run.pk}" in queued.stdout
    assert "No Celery worker answered" in queued.stdout
    assert run.status == Import.Status.PENDING and run.task_id

    worker = background("worker", CELERY_WORKER, child_env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        refreshed(run)
        if run.status == Import.Status.DONE:
            break
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.2)
    else:
        pytest.fail("the worker did not finish the queued import")
    assert run.records_written > 0 and run.members_done == run.members_total


def test_queueing_without_a_broker_says_what_to_do(owner, sample_zip, child_env):
    env = {**child_env, "REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens on port 1
    result = _import_takeout(sample_zip, owner.username, env)
    assert result.returncode == 1
    assert "the Celery broker (Redis) does not answer" in result.stderr
    assert "--sync" in result.stderr
    assert "Traceback" not in result.stderr
