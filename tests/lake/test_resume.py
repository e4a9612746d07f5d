"""An import killed mid-way resumes with no loss and no duplicates."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apps.lake.models import Import, ImportEntry, LocationPoint
from apps.lake.sample_takeout import write_records_zip

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
POINTS = 400_000


def _command(archive: Path, username: str) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "manage.py"),
        "import_takeout",
        str(archive),
        "--user",
        username,
        "--sync",
    ]


def test_killed_import_resumes_exactly(owner, tmp_path, child_env):
    archive = write_records_zip(tmp_path / "takeout.zip", POINTS)
    child = subprocess.Popen(
        _command(archive, owner.username),
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
        _command(archive, owner.username), env=child_env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming import {run.pk}" in resumed.stdout

    run.refresh_from_db()
    assert run.status == Import.Status.DONE
    assert Import.objects.filter(user=owner).count() == 1
    assert LocationPoint.objects.filter(user=owner).count() == POINTS
    assert run.records_written == POINTS
    assert run.records_duplicate == 0  # the resumed run skipped what was committed, re-sent nothing
