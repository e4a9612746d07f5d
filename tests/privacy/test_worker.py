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
    assert Import.objects.get(user=owner).status == Import.Status.DONE
    events = Event.objects.filter(user=owner).count()
    assert events > 0
    assert not PiiScanState.objects.filter(user=owner).exists()  # queued, not run yet

    worker = background("worker", CELERY_WORKER, child_env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = PiiScanState.objects.filter(user=owner).first()
        if state and state.events_scanned == events:
            break
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        time.sleep(0.3)
    else:
        pytest.fail("the worker did not scan the imported events")

    contact = Event.objects.get(user=owner, kind="contacts.contact", title="Ana Demo")
    found = set(
        PiiFinding.objects.filter(user=owner, event_id=contact.id).values_list(
            "entity_type", flat=True
        )
    )
    assert "EMAIL_ADDRESS" in found
    client = APIClient()
    client.force_authenticate(owner)
    body = client.get(f"/api/privacy/events/{contact.id}/").json()
    assert "ana@example.org" not in str(body)
    assert "<EMAIL_ADDRESS>" in str(body)
