"""A good backup: the command's output, the list, /health/ready, /metrics, the admin."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.ops.models import BackupRun

pytestmark = pytest.mark.django_db


def test_backup_then_backups_then_ready(client, settings, tmp_path, capsys):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    part = settings.UPLOAD_DIR / "1" / "7" / "takeout-001.zip"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PK-not-really-a-zip" * 100)
    settings.DATAPUNK_BACKUP_UPLOADS_DIR = tmp_path / "upload-backups"

    call_command("backup")
    out = capsys.readouterr().out
    run = BackupRun.objects.get()
    assert run.status == BackupRun.Status.DONE
    assert re.search(rf"Backup {re.escape(run.label)} \((full|incr)\) done: database \d", out), out
    assert "1 uploaded part files" in out
    # The part is beside the backup, under its label.
    copy = settings.DATAPUNK_BACKUP_UPLOADS_DIR / run.label / "1" / "7" / "takeout-001.zip"
    assert copy.read_bytes() == part.read_bytes()

    call_command("backups")
    listing = capsys.readouterr().out
    line = next(line for line in listing.splitlines() if line.startswith(run.label))
    assert line.endswith("yes"), listing
    assert "WAL archiving: working" in listing

    # Anonymous callers learn only whether backups are fine; operators the rest.
    assert client.get("/health/ready").json()["backup"] == {"status": "ok"}
    settings.METRICS_TOKEN = "scraper-token"
    body = client.get("/health/ready", HTTP_AUTHORIZATION="Bearer scraper-token").json()
    assert body["backup"]["status"] == "ok", body["backup"]
    assert body["backup"]["last_good_label"] == run.label
    assert 0 <= body["backup"]["last_good_age_seconds"] < 600
    assert body["backup"]["last_good_size_bytes"] == run.size_bytes
    assert body["warnings"] == []


def test_ready_fails_the_backup_check_when_the_last_one_is_too_old(client, settings):
    settings.DATAPUNK_BACKUP_MAX_AGE_HOURS = 0  # any backup is too old now
    body = client.get("/health/ready").json()
    assert body["backup"]["status"] == "fail"
    assert body["failed"] == [] and body["warnings"] == ["backup"]


def test_metrics_show_last_backup_age_and_size(client, make_user):
    client.force_login(make_user("staff", is_staff=True))
    BackupRun.objects.create(
        kind="full",
        status=BackupRun.Status.DONE,
        label="20261201-000000F",
        size_bytes=123456789,
        finished_at=timezone.now() - timedelta(hours=2),
    )
    BackupRun.objects.create(kind="incr", status=BackupRun.Status.FAILED, error="disk full")
    text = client.get("/metrics").content.decode()
    age = float(re.search(r"^datapunk_backup_last_success_age_seconds (\S+)$", text, re.M)[1])
    assert 7190 < age < 7300
    assert "datapunk_backup_last_success_size_bytes 1.23456789e+08" in text


def test_admin_shows_backup_and_archive_runs_read_only(client, make_user):
    BackupRun.objects.create(kind="full", status=BackupRun.Status.FAILED, error="disk full")
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))
    page = client.get("/admin/ops/backuprun/")
    assert page.status_code == 200 and b"failed" in page.content
    # The live repository status is shown above the runs.
    assert b"Backups: " in page.content
    assert client.get("/admin/ops/archiverun/").status_code == 200
    assert client.get("/admin/ops/backuprun/add/").status_code == 403


def test_a_run_left_running_is_closed_by_the_next_backup(settings, tmp_path):
    settings.DATAPUNK_BACKUP_UPLOADS_DIR = tmp_path / "upload-backups"
    stale = BackupRun.objects.create(
        kind="incr", status=BackupRun.Status.RUNNING
    )  # as a restore to mid-backup leaves it
    from apps.ops.services import backup_run

    backup_run(kind="incr")
    stale.refresh_from_db()
    assert stale.status == BackupRun.Status.FAILED and "did not finish" in stale.error
