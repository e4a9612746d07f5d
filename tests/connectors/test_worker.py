"""A real Celery worker syncs a connection queued the way a user or beat queues it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from apps.lake.models import Event
from tests.acting import count_of, refreshed
from tests.conftest import CELERY_WORKER, ROOT
from tests.connectors.conftest import make_connection
from tests.connectors.fakes.base import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_runs_the_queued_sync(owner, spotify, child_env, background, tmp_path):
    redis.Redis.from_url(child_env["REDIS_URL"]).flushdb()  # this test's own database
    env = {
        **child_env,
        "DATAPUNK_SPOTIFY_BASE_URL": spotify.url,
        "DATAPUNK_SPOTIFY_CLIENT_ID": CLIENT_ID,
        "DATAPUNK_SPOTIFY_SECRET": CLIENT_SECRET,
    }
    conn = make_connection(owner, "spotify", spotify)
    worker = background("worker", CELERY_WORKER, env)
    celery = str(Path(sys.executable).parent / "celery")
    queued = subprocess.run(
        [
            celery,
            "-A",
            "datapunk",
            "call",
            "apps.connectors.tasks.sync_connection",
            f"--args=[{owner.pk}, {conn.pk}]",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert queued.returncode == 0, queued.stderr

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        refreshed(conn)
        if conn.last_sync_at:
            break
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.3)
    else:
        pytest.fail("the worker did not sync: " + (tmp_path / "worker.log").read_text()[-3000:])
    assert count_of(owner, Event) == 274
