"""After an import, a real Celery worker refreshes the daily series and emits the
crossings of the user's geofences (queued by apps/analytics/receivers.py)."""

from __future__ import annotations

import subprocess
import time

import pytest
from django.contrib.gis.geos import Point

from apps.analytics import aggregates
from apps.analytics.models import Geofence
from apps.lake.models import Event
from apps.lake.sample_takeout import OUTINGS, build_sample_takeout
from tests.acting import as_user
from tests.conftest import CELERY_WORKER, import_takeout_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_refreshes_the_series_and_emits_geofence_events_after_an_import(
    owner, child_env, tmp_path, background
):
    # child_env's Redis database is this test's own: start it empty.
    subprocess.run(
        ["redis-cli", "-u", child_env["REDIS_URL"], "flushdb"], check=True, capture_output=True
    )
    with as_user(owner):
        belem = OUTINGS[1]
        Geofence.objects.create(
            user=owner, name="Belém", center=Point(belem[1], belem[0], srid=4326), radius_m=300
        )
        archive = build_sample_takeout(tmp_path / "takeout.zip", points=400, days=8)
        done = subprocess.run(
            import_takeout_command(archive, username=owner.username, sync=True),
            env=child_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert aggregates.events_per_day(user_id=owner.pk) == []  # queued, not yet run

        worker = background("worker", CELERY_WORKER, child_env)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if (
                aggregates.distance_per_day(user_id=owner.pk)
                and Event.objects.filter(user=owner, kind="geofence.exit").exists()
            ):
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.3)
        else:
            pytest.fail("the worker did not refresh the series and emit the geofence events")
        assert len(aggregates.distance_per_day(user_id=owner.pk)) == 8
        # The sample goes to Belém every 4th day from day 2: days 2 and 6 of 8.
        assert Event.objects.filter(user=owner, kind="geofence.enter").count() == 2
