"""Backups (pgBackRest) and archive policies: the writes of the ops app."""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.ops import pgbackrest
from apps.ops.models import ArchiveRun, BackupRun
from apps.ops.pgbackrest import PgBackRestError

logger = logging.getLogger(__name__)

# "P00 DETAIL: backup file /var/lib/postgresql/17/main/base/1/1259 (112KB, 41.73%) checksum ..."
_FILE_PROGRESS = re.compile(r"\(([\d.]+[KMGT]?B), ([\d.]+)%\)")
_LABEL = re.compile(r"new backup label = (\S+)")

# (percent done or None, pgBackRest's console line)
BackupProgress = Callable[[float | None, str], None]


class BackupError(Exception):
    """A backup did not complete; the message says why, for a person."""


def backup_run(*, kind: str, progress: BackupProgress | None = None) -> BackupRun:
    """Take a full or incremental backup now, then copy the uploaded parts beside it.

    Not idempotent (each call is a new backup); pgBackRest holds the stanza's
    backup lock, so a second backup at the same time fails cleanly. Backups
    past the retention (DATAPUNK_BACKUP_RETENTION_FULL full backups and what
    builds on them) are expired by pgBackRest right after. Raises BackupError.
    """
    if kind not in BackupRun.Kind.values:
        raise BackupError(f"kind must be one of {', '.join(BackupRun.Kind.values)}, not {kind!r}")
    _close_stale_runs()
    run = BackupRun.objects.create(kind=kind)
    run.start()
    label = ""
    try:
        for line in pgbackrest.stream(
            "backup",
            f"--type={kind}",
            f"--repo1-retention-full={settings.DATAPUNK_BACKUP_RETENTION_FULL}",
            "--log-level-console=detail",
            "--log-level-stderr=off",
        ):
            if found := _LABEL.search(line):
                label = found.group(1)
            if progress is not None:
                done = _FILE_PROGRESS.search(line)
                progress(float(done.group(2)) if done else None, line)
        stanza = pgbackrest.info()
        entry = next((b for b in stanza.get("backup", []) if b["label"] == label), None)
        if entry is None:
            raise PgBackRestError(f"backup {label or '(no label)'} is not listed after it finished")
        files, size = uploads_snapshot(label=label)
        _uploads_prune(keep={b["label"] for b in stanza.get("backup", [])})
    except (PgBackRestError, OSError) as exc:
        run.fail(str(exc), label=label)
        logger.error("backup %s failed: %s", run.pk, exc)
        raise BackupError(str(exc)) from None
    except KeyboardInterrupt:
        # Ctrl-C reaches pgBackRest too (same process group): it stops and cleans up.
        run.fail("interrupted")
        raise BackupError("interrupted; the repository keeps only complete backups") from None
    run.finish(
        label=label,
        # pgBackRest makes the first incremental a full one: record what it did.
        kind=BackupRun.Kind.FULL if entry["type"] == "full" else BackupRun.Kind.INCR,
        size_bytes=entry["info"]["size"],
        repo_bytes=entry["info"]["repository"]["delta"],
        uploads_files=files,
        uploads_bytes=size,
    )
    logger.info("backup %s done: %s (%s bytes)", run.pk, label, run.size_bytes)
    return run


def _close_stale_runs() -> None:
    """Mark unfinished rows failed when no backup runs: a killed process left them, or
    the database was restored to a moment during a backup (the row was committed at
    its start). Only when pgBackRest says no backup holds the stanza's lock."""
    unfinished = BackupRun.objects.filter(
        status__in=[BackupRun.Status.PENDING, BackupRun.Status.RUNNING]
    )
    if not unfinished.exists():
        return
    try:
        held = pgbackrest.info().get("status", {}).get("lock", {}).get("backup", {}).get("held")
    except PgBackRestError:
        return  # the backup itself will say what is wrong
    if held is False:
        unfinished.update(
            status=BackupRun.Status.FAILED,
            error="did not finish: its process was killed, or the database was restored "
            "to a moment during it",
            finished_at=timezone.now(),
        )


def uploads_snapshot(*, label: str) -> tuple[int, int]:
    """Copy DATAPUNK_UPLOAD_DIR to DATAPUNK_BACKUP_UPLOADS_DIR/<label>; (files, bytes).

    The database points at these files (Upload rows, Import.parts), so they are
    kept per backup. A file unchanged since the previous snapshot (same size and
    mtime: parts are written once) is hard-linked to it rather than copied.
    """
    source = Path(settings.UPLOAD_DIR)
    root = Path(settings.DATAPUNK_BACKUP_UPLOADS_DIR)
    root.mkdir(parents=True, exist_ok=True)
    previous = max(
        (p for p in root.iterdir() if p.is_dir() and p.name != label and p.name[0] != "."),
        key=lambda p: p.name.rsplit("_", 1)[-1],  # an incremental's own time is after the "_"
        default=None,
    )
    target, partial = root / label, root / f".{label}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    files = size = 0
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            relative = path.relative_to(source)
            copy = partial / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            stat = path.stat()
            old = previous / relative if previous else None
            try:
                if old is None:
                    raise FileNotFoundError
                old_stat = old.stat()
                if (old_stat.st_size, old_stat.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                    raise FileNotFoundError
                os.link(old, copy)
            except OSError:
                shutil.copy2(path, copy)
            files += 1
            size += stat.st_size
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return files, size


def _uploads_prune(*, keep: set[str]) -> None:
    """Remove the upload snapshots of backups pgBackRest has expired."""
    root = Path(settings.DATAPUNK_BACKUP_UPLOADS_DIR)
    for path in root.iterdir():
        if path.is_dir() and not path.name.startswith(".") and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


SCHEDULE = {
    # name: (task, day_of_week, hour offset from DATAPUNK_BACKUP_HOUR)
    "datapunk: weekly full backup": ("apps.ops.tasks.backup_full", "0", 0),
    "datapunk: daily incremental backup": ("apps.ops.tasks.backup_incremental", "1-6", 0),
    "datapunk: archive policies": ("apps.ops.tasks.archive_policies", "*", 1),
}


def schedule_ensure(*, using: str = "default") -> None:
    """Write the beat schedule (Sunday full, other days incremental, daily archive
    policies) into django-celery-beat's tables. Idempotent; run after every migrate."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for name, (task, day_of_week, offset) in SCHEDULE.items():
        crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
            minute="0",
            hour=str((settings.DATAPUNK_BACKUP_HOUR + offset) % 24),
            day_of_week=day_of_week,
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.using(using).update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "interval": None}
        )


def archive_policies_run() -> ArchiveRun:
    """Compress away uploaded parts and quarantine entries older than their settings.

    Uploaded parts older than DATAPUNK_UPLOAD_ARCHIVE_DAYS are gzipped into the
    run's folder under DATAPUNK_ARCHIVE_DIR, then deleted with the lake's own
    upload_delete (which refuses parts an unfinished import still reads: those
    are kept and counted). Quarantine entries older than
    DATAPUNK_QUARANTINE_ARCHIVE_DAYS are written as JSON lines (gzip) per user,
    then deleted. Every run is an ArchiveRun row and a log line; an item that
    fails stays where it was and is named in the run's errors. Idempotent: a
    second run finds nothing old left.
    """
    from apps.core.db.context import system_context, user_context
    from apps.lake.models import Quarantine, Upload
    from apps.lake.uploads import UploadError, upload_delete, upload_path

    run = ArchiveRun.objects.create()
    now = timezone.now()
    folder = Path(settings.DATAPUNK_ARCHIVE_DIR) / f"{now:%Y%m%d-%H%M%S}-run{run.pk}"
    run.start(archive_path=str(folder))
    errors: list[str] = []

    upload_cutoff = now - timedelta(days=settings.DATAPUNK_UPLOAD_ARCHIVE_DAYS)
    with system_context():
        old_uploads = list(
            Upload.objects.filter(created_at__lt=upload_cutoff)
            .order_by("pk")
            .values_list("user_id", "pk")
        )
    for user_id, upload_id in old_uploads:
        with user_context(user_id):
            upload = Upload.objects.filter(pk=upload_id).first()
            if upload is None:
                continue
            source = upload_path(upload)
            copy = folder / "uploads" / str(user_id) / f"{upload_id}-{source.name}.gz"
            try:
                size = source.stat().st_size if source.exists() else 0
                if source.exists():
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    # Level 1: parts are zips already; this is about keeping them, fast.
                    with source.open("rb") as src, gzip.open(copy, "wb", compresslevel=1) as dst:
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                upload_delete(upload_id=upload_id)
            except UploadError:
                _discard(copy)
                run.uploads_kept += 1
                continue
            except OSError as exc:
                _discard(copy)
                errors.append(f"upload {upload_id}: {exc}")
                continue
            run.uploads_archived += 1
            run.uploads_bytes += size

    quarantine_cutoff = now - timedelta(days=settings.DATAPUNK_QUARANTINE_ARCHIVE_DAYS)
    with system_context():
        users = sorted(
            set(
                Quarantine.objects.filter(created_at__lt=quarantine_cutoff).values_list(
                    "user_id", flat=True
                )
            )
        )
    for user_id in users:
        with user_context(user_id):
            try:
                run.quarantine_archived += _quarantine_archive(
                    user_id=user_id, cutoff=quarantine_cutoff, folder=folder
                )
            except OSError as exc:
                errors.append(f"quarantine of user {user_id}: {exc}")

    run.finish(
        status=ArchiveRun.Status.PARTIAL if errors else ArchiveRun.Status.DONE,
        error="\n".join(errors),
        uploads_archived=run.uploads_archived,
        uploads_bytes=run.uploads_bytes,
        uploads_kept=run.uploads_kept,
        quarantine_archived=run.quarantine_archived,
    )
    logger.info(
        "archive run %s: %s uploads archived (%s bytes), %s kept for unfinished imports, "
        "%s quarantine entries archived, %s errors, into %s",
        run.pk,
        run.uploads_archived,
        run.uploads_bytes,
        run.uploads_kept,
        run.quarantine_archived,
        len(errors),
        folder,
    )
    return run


def _discard(path: Path) -> None:
    """Remove a half-written archive copy; the original is still in place."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _quarantine_archive(*, user_id: int, cutoff, folder: Path) -> int:
    from apps.lake.models import Quarantine

    with transaction.atomic():
        rows = list(
            Quarantine.objects.select_for_update()
            .filter(user_id=user_id, created_at__lt=cutoff)
            .order_by("pk")
            .values("pk", "user_id", "entry_id", "source", "reason", "excerpt", "created_at")
        )
        if not rows:
            return 0
        path = folder / "quarantine" / f"user-{user_id}.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written and flushed to disk before the rows go: a crash keeps both, never neither.
        with path.open("ab") as raw:
            with gzip.open(raw, "wt", encoding="utf-8") as out:
                for row in rows:
                    out.write(json.dumps(row, default=str) + "\n")
            raw.flush()
            os.fsync(raw.fileno())
        Quarantine.objects.filter(pk__in=[row["pk"] for row in rows]).delete()
    return len(rows)
