"""An import killed mid-way resumes with no loss and no duplicates."""

import signal
import subprocess
import time

import pytest

from apps.lake.models import Import, ImportEntry, LocationPoint
from apps.lake.sample_takeout import write_records_zip
from tests.acting import all_of, count_of, one_of, refreshed
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
            entry = next(iter(all_of(owner, ImportEntry)), None)
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

    run = one_of(owner, Import)
    entry = one_of(owner, ImportEntry, import_run=run)
    assert run.status == Import.Status.RUNNING  # as the kill left it
    committed = count_of(owner, LocationPoint)
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

    refreshed(run)
    assert run.status == Import.Status.DONE
    assert count_of(owner, Import) == 1
    assert count_of(owner, LocationPoint) == POINTS
    assert run.records_written == POINTS
    assert run.records_duplicate == 0  # the resumed run skipped what was committed, re-sent nothing
