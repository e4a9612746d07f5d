"""A missing, unwritable or full repository: a clear error, a non-fatal failed check."""

import shlex
import subprocess
import sys

import pytest

from apps.ops import pgbackrest
from apps.ops.models import BackupRun
from apps.ops.services import BackupError, backup_run

from .conftest import ROOT, pointing_at

pytestmark = pytest.mark.django_db


def _manage(env, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# The child process commits its BackupRun row: flush the database afterwards.
@pytest.mark.django_db(transaction=True)
def test_backup_command_names_a_missing_repository_without_a_traceback(
    settings, child_env, repo_path
):
    child_env["DATAPUNK_PGBACKREST_COMMAND"] = shlex.join(pointing_at(settings, repo_path))
    done = _manage(child_env, "backup")
    assert done.returncode == 1
    assert "backup failed" in done.stderr and "missing, not mounted" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    failed = BackupRun.objects.get()
    assert failed.status == BackupRun.Status.FAILED and "missing" in failed.error


@pytest.mark.django_db(transaction=True)
def test_backups_command_names_a_missing_repository(settings, child_env, repo_path):
    child_env["DATAPUNK_PGBACKREST_COMMAND"] = shlex.join(pointing_at(settings, repo_path))
    done = _manage(child_env, "backups")
    assert done.returncode == 1
    assert "cannot read the backup repository: missing stanza path" in done.stderr
    assert "Traceback" not in done.stderr


def test_ready_reports_a_missing_repository_as_a_non_fatal_failure(
    client, settings, repo_path, caplog
):
    settings.DATAPUNK_PGBACKREST_COMMAND = pointing_at(settings, repo_path)
    response = client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body  # the lake still serves
    assert body["failed"] == []
    assert body["warnings"] == ["backup"]
    assert body["backup"]["status"] == "fail"
    assert "last_good_age_seconds" not in body["backup"]  # operators only
    # The reason names paths: it goes to the log, not to whoever asks /health/ready.
    assert "detail" not in body["backup"] and repo_path not in response.content.decode()
    assert "backup check failed: backup repository: missing stanza path" in caplog.text


def _stanza_create(repo: str) -> None:
    pgbackrest.run(f"--repo1-path={repo}", "stanza-create")


def test_unwritable_repository(settings, pg_root, repo_path):
    _stanza_create(repo_path)
    host = pg_root / repo_path.lstrip("/")
    # Readable, not writable, by the postgres user pgBackRest runs as (root is not asked).
    subprocess.run(["chmod", "-R", "a-w", str(host)], check=True)
    settings.DATAPUNK_PGBACKREST_COMMAND = pointing_at(settings, repo_path, "--archive-check=n")
    with pytest.raises(BackupError, match="not writable by the postgres user"):
        backup_run(kind="full")
    assert BackupRun.objects.latest("started_at").status == BackupRun.Status.FAILED


def test_full_repository(settings, pg_root, repo_path):
    host = pg_root / repo_path.lstrip("/")
    host.mkdir(parents=True)
    # A 256 KB disk: room for the stanza's info files, not for a database.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(host)], check=True)
    subprocess.run(["chroot", str(pg_root), "chown", "postgres:postgres", repo_path], check=True)
    _stanza_create(repo_path)
    # No WAL check (archiving goes to the real repository) and no retries: fail fast.
    settings.DATAPUNK_PGBACKREST_COMMAND = pointing_at(
        settings, repo_path, "--archive-check=n", "--job-retry=0"
    )
    with pytest.raises(BackupError, match="is its disk full"):
        backup_run(kind="full")
