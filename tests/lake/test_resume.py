"""An import killed mid-way resumes with no loss and no duplicates."""

import signal
import subprocess
import time

import pytest

from apps.lake.models import Import, ImportEntry, LocationPoint
from apps.lake.sample_takeout import write_records_zip
from tests.conftest import import_takeout_command

pytestmark = pytest.mark.django_db(transaction=True)

POINTS = 400_000


def test_killed_import_resumes_exactly(owner, tmp_path, child_env):
    archive = write_records_zip(tmp_path / "takeout.zip", POINTS)
    child = subprocess.Popen(
        import_takeout_command(archive, username=owner.username),
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            entry = ImportEntry.objects.filter(import_run__user=owner).first()
            if entry is not None and entry.checkpoint > 0:
                break
            assert child.poll() is None, "import finished before it could be interrupted"
            time.sleep(0.05)
        else:
            pytest.fail("the import never committed a batch")
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()

    run = Import.objects.get(user=owner)
    entry = run.entries.get()
    assert run.status == Import.Status.RUNNING  # as the kill left it
    committed = LocationPoint.objects.filter(user=owner).count()
    assert 0 < committed < POINTS
    assert committed == entry.records_written == entry.checkpoint

    resumed = subprocess.run(
        import_takeout_command(archive, username=owner.username),
        env=child_env,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming import {run.pk}" in resumed.stdout

    run.refresh_from_db()
    assert run.status == Import.Status.DONE
    assert Import.objects.filter(user=owner).count() == 1
    assert LocationPoint.objects.filter(user=owner).count() == POINTS
    assert run.records_written == POINTS
    assert run.records_duplicate == 0  # the resumed run skipped what was committed, re-sent nothing
