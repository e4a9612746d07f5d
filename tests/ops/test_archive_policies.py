"""Archive policies: old uploaded parts and quarantine entries are compressed away, counted."""

import gzip
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.core.db.context import system_context
from apps.lake.models import Import, Quarantine, Upload
from apps.lake.uploads import upload_create, upload_path
from apps.ops.models import ArchiveRun
from apps.ops.services import schedule_ensure
from apps.ops.tasks import archive_policies
from tests.acting import as_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def dirs(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.DATAPUNK_ARCHIVE_DIR = tmp_path / "archive"
    settings.DATAPUNK_UPLOAD_ARCHIVE_DAYS = 30
    settings.DATAPUNK_QUARANTINE_ARCHIVE_DAYS = 90
    return tmp_path


def _upload(user, name: str, content: bytes, age_days: int) -> Upload:
    with as_user(user):
        upload = upload_create(user=user, filename=name, size=len(content), sha256="0" * 64)
        upload_path(upload).write_bytes(content)
        Upload.objects.filter(pk=upload.pk).update(
            created_at=timezone.now() - timedelta(days=age_days), status=Upload.Status.COMPLETE
        )
    return upload


def _quarantine(user, reason: str, age_days: int) -> Quarantine:
    with as_user(user):
        item = Quarantine.objects.create(user=user, reason=reason, excerpt="{bad json")
        Quarantine.objects.filter(pk=item.pk).update(
            created_at=timezone.now() - timedelta(days=age_days)
        )
    return item


# As the beat task runs: no context until the service enters one.
def test_old_parts_and_quarantine_are_archived_and_counted(dirs, owner, outsider):
    old = _upload(owner, "takeout-001.zip", b"old part " * 1000, age_days=40)
    recent = _upload(owner, "takeout-002.zip", b"recent part", age_days=3)
    busy = _upload(outsider, "takeout-003.zip", b"still being imported", age_days=40)
    # An unfinished import still reads the busy part: it must stay.
    with as_user(outsider):
        Import.objects.create(
            user=outsider,
            status=Import.Status.RUNNING,
            parts=[{"path": str(upload_path(busy).resolve()), "name": "takeout-003.zip"}],
        )
    _quarantine(owner, "old reason", age_days=100)
    _quarantine(outsider, "old too", age_days=91)
    fresh = _quarantine(owner, "fresh reason", age_days=1)

    run = ArchiveRun.objects.get(pk=archive_policies())  # the beat task, called directly

    assert run.status == ArchiveRun.Status.DONE, run.error
    assert (run.uploads_archived, run.uploads_kept, run.quarantine_archived) == (1, 1, 2)
    assert run.uploads_bytes == len(b"old part " * 1000)
    with system_context():  # both users' rows: what the run left on the shared disk
        assert set(Upload.objects.values_list("pk", flat=True)) == {recent.pk, busy.pk}
        left = list(Quarantine.objects.values_list("pk", flat=True))
    assert not upload_path(old).exists() and upload_path(busy).exists()
    folder = dirs / "archive" / run.archive_path.rsplit("/", 1)[1]
    copy = folder / "uploads" / str(owner.pk) / f"{old.pk}-takeout-001.zip.gz"
    assert gzip.decompress(copy.read_bytes()) == b"old part " * 1000
    assert left == [fresh.pk]
    lines = gzip.decompress((folder / "quarantine" / f"user-{owner.pk}.jsonl.gz").read_bytes())
    [row] = [json.loads(line) for line in lines.splitlines()]
    assert row["reason"] == "old reason" and row["excerpt"] == "{bad json"

    # Nothing old is left: the next run archives nothing, and still leaves its row.
    again = ArchiveRun.objects.get(pk=archive_policies())
    assert (again.uploads_archived, again.uploads_kept, again.quarantine_archived) == (0, 1, 0)
    assert ArchiveRun.objects.count() == 2


def test_a_part_that_cannot_be_archived_stays_and_is_named(dirs, owner):
    upload = _upload(owner, "takeout-001.zip", b"part", age_days=40)
    # The archive folder cannot be created: a file stands where it should be.
    (dirs / "archive").write_text("in the way")
    run = ArchiveRun.objects.get(pk=archive_policies())
    assert run.status == ArchiveRun.Status.PARTIAL
    assert f"upload {upload.pk}" in run.error
    with as_user(owner):
        assert Upload.objects.filter(pk=upload.pk).exists() and upload_path(upload).exists()


def test_beat_schedule_is_written_by_code_and_idempotent(settings):
    # Written by post_migrate when the test database was migrated.
    tasks = {task.name: task for task in PeriodicTask.objects.filter(name__startswith="datapunk:")}
    assert {name: task.task for name, task in tasks.items()} == {
        "datapunk: weekly full backup": "apps.ops.tasks.backup_full",
        "datapunk: daily incremental backup": "apps.ops.tasks.backup_incremental",
        "datapunk: archive policies": "apps.ops.tasks.archive_policies",
    }
    assert tasks["datapunk: weekly full backup"].crontab.day_of_week == "0"
    assert tasks["datapunk: daily incremental backup"].crontab.day_of_week == "1-6"
    settings.DATAPUNK_BACKUP_HOUR = 5
    schedule_ensure()
    schedule_ensure()
    assert PeriodicTask.objects.filter(name__startswith="datapunk:").count() == 3
    full = PeriodicTask.objects.get(name="datapunk: weekly full backup")
    assert full.crontab.hour == "5"
