"""The demo path end to end: an import in one process, a real Celery worker embedding
its events in another, then the API finds them."""

import subprocess
import time

import pytest
import redis
from rest_framework.test import APIClient

from apps.analytics.models import Embedding
from apps.analytics.search.selectors import text_events
from apps.lake.sample_takeout import build_sample_takeout
from tests.acting import as_user, count_of
from tests.conftest import CELERY_WORKER, import_takeout_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_import_is_embedded_by_the_worker_and_found_by_search(
    owner, child_env, tmp_path, background
):
    # child_env's Redis database is this checkout's own: no other worker takes the tasks,
    # and none left over from an earlier run is waiting there.
    redis.Redis.from_url(child_env["REDIS_URL"]).flushdb()
    worker = background("worker", CELERY_WORKER, child_env)
    archive = build_sample_takeout(tmp_path / "takeout-001.zip", points=20)
    imported = subprocess.run(
        import_takeout_command(archive, username=owner.username),
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    with as_user(owner):
        expected = text_events(owner.pk).count()
    assert expected > 20

    deadline = time.monotonic() + 240  # the worker loads the model once, then embeds
    while count_of(owner, Embedding) < expected:
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.5)

    client = APIClient()
    client.force_login(owner)
    body = client.get("/api/search/", {"q": "fado music tonight"}).json()
    assert body["indexing"] == {"embedded": expected, "pending": 0}
    assert "fado" in body["results"][0]["title"].lower()
