"""A Takeout import, then a real Celery worker scans it; the API shows the result masked."""

from __future__ import annotations

import subprocess
import time

import pytest
import redis
from rest_framework.test import APIClient

from apps.lake.models import Event, Import
from apps.lake.sample_takeout import build_sample_takeout
from apps.privacy.pii.models import PiiFinding, PiiScanState
from tests.acting import all_of, count_of, one_of
from tests.conftest import CELERY_WORKER, import_takeout_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_then_worker_scans_and_api_masks(owner, child_env, tmp_path, background):
    sample_zip = build_sample_takeout(tmp_path / "takeout-001.zip", points=50)
    redis.Redis.from_url(child_env["REDIS_URL"]).flushdb()  # this test's own Redis database
    done = subprocess.run(
        import_takeout_command(sample_zip, username=owner.username, sync=True),
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert one_of(owner, Import).status == Import.Status.DONE
    events = count_of(owner, Event)
    assert events > 0
    assert count_of(owner, PiiScanState) == 0  # queued, not run yet

    worker = background("worker", CELERY_WORKER, child_env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = next(iter(all_of(owner, PiiScanState)), None)
        if state and state.events_scanned == events:
            break
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.3)
    else:
        pytest.fail("the worker did not scan the imported events")

    contact = one_of(owner, Event, kind="contacts.contact", title="Ana Demo")
    found = {finding.entity_type for finding in all_of(owner, PiiFinding, event_id=contact.id)}
    assert "EMAIL_ADDRESS" in found
    client = APIClient()
    client.force_login(owner)
    body = client.get(f"/api/privacy/events/{contact.id}/").json()
    assert "ana@example.org" not in str(body)
    assert "<EMAIL_ADDRESS>" in str(body)
