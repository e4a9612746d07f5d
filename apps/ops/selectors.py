"""Reads about backups: what the repository holds, and how healthy backing up is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection

from apps.ops import pgbackrest
from apps.ops.formatting import human_age


@dataclass(frozen=True)
class BackupInfo:
    label: str
    kind: str  # full, diff, incr
    started_at: datetime
    finished_at: datetime
    size_bytes: int  # the database as restored
    repo_bytes: int  # what this backup stores in the repository (compressed, its own files)
    prior: str | None
    restorable: bool
    why_not: str  # empty when restorable

    @property
    def age_seconds(self) -> float:
        return (datetime.now(UTC) - self.finished_at).total_seconds()


def _restorable(backup: dict[str, Any], stanza: dict[str, Any], labels: set[str]) -> str:
    """Why a backup cannot be restored, or "" when it can.

    Restoring a backup needs the WAL from its start to its stop segment (to make
    it consistent) and, for an incremental, the backups it builds on.
    """
    if backup.get("error"):
        return "pgBackRest found page errors while copying it"
    prior = backup.get("prior")
    if prior and prior not in labels:
        return f"the backup it builds on ({prior}) is gone"
    start, stop = backup["archive"]["start"], backup["archive"]["stop"]
    if not start or not stop:
        return "it has no WAL range"
    db_id = backup["database"]["id"]
    for archive in stanza.get("archive", []):
        if archive["database"]["id"] != db_id or not archive.get("min"):
            continue
        # WAL file names are fixed-width hex: timeline, log, segment; they sort as strings.
        if archive["min"] <= start and stop <= archive["max"]:
            return ""
    return f"WAL {start}..{stop} is not all in the archive"


def backup_list() -> list[BackupInfo]:
    """Backups in the repository, oldest first. Raises PgBackRestError."""
    stanza = pgbackrest.info()
    raw = stanza.get("backup", [])
    labels = {backup["label"] for backup in raw}
    backups = []
    for backup in raw:
        why_not = _restorable(backup, stanza, labels)
        backups.append(
            BackupInfo(
                label=backup["label"],
                kind=backup["type"],
                started_at=datetime.fromtimestamp(backup["timestamp"]["start"], UTC),
                finished_at=datetime.fromtimestamp(backup["timestamp"]["stop"], UTC),
                size_bytes=backup["info"]["size"],
                repo_bytes=backup["info"]["repository"]["delta"],
                prior=backup.get("prior"),
                restorable=not why_not,
                why_not=why_not,
            )
        )
    return backups


def latest_good_backup(backups: list[BackupInfo]) -> BackupInfo | None:
    good = [backup for backup in backups if backup.restorable]
    return max(good, key=lambda backup: backup.finished_at) if good else None


def archiving_failure() -> str | None:
    """Why WAL archiving is failing right now (repository gone, full, unwritable), or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('archive_mode'), last_archived_time, last_failed_time,"
            " last_failed_wal FROM pg_stat_archiver"
        )
        mode, archived_at, failed_at, failed_wal = cursor.fetchone()
    if mode == "off":
        return "WAL archiving is off on this server (archive_mode): no point-in-time recovery"
    if failed_at and (archived_at is None or failed_at > archived_at):
        return f"WAL archiving is failing (last failure {failed_at:%Y-%m-%d %H:%M:%S} UTC, {failed_wal})"
    return None


@dataclass(frozen=True)
class BackupHealth:
    ok: bool
    detail: str
    latest: BackupInfo | None


def backup_health() -> BackupHealth:
    """Is there a recent, restorable backup and does WAL archiving work? Never raises."""
    try:
        latest = latest_good_backup(backup_list())
    except pgbackrest.PgBackRestError as exc:
        return BackupHealth(ok=False, detail=f"backup repository: {exc}", latest=None)
    try:
        archiving = archiving_failure()
    except Exception as exc:  # a probe reports, whatever the error
        archiving = f"cannot read pg_stat_archiver: {exc}"
    if latest is None:
        problem = "no restorable backup yet (run manage.py backup)"
        return BackupHealth(
            ok=False, detail="; ".join(filter(None, [problem, archiving])), latest=None
        )
    age = f"last good backup {latest.label} is {human_age(latest.age_seconds)} old"
    max_age = settings.DATAPUNK_BACKUP_MAX_AGE_HOURS * 3600
    too_old = latest.age_seconds > max_age
    if too_old:
        age += f", older than {settings.DATAPUNK_BACKUP_MAX_AGE_HOURS} h"
    if archiving or too_old:
        return BackupHealth(
            ok=False, detail="; ".join(filter(None, [age, archiving])), latest=latest
        )
    return BackupHealth(ok=True, detail=age, latest=latest)


def backup_report() -> dict[str, object]:
    """The backup check as the readiness page reports it (apps/core/health.py's
    warning checks): a failing one is reported, never fatal. A server whose last
    backup is old or whose repository is gone still serves and imports; this
    says so loudly without taking it out of the load balancer."""
    health = backup_health()
    latest = health.latest
    return {
        "status": "ok" if health.ok else "fail",
        "detail": health.detail,
        "last_good_label": latest.label if latest else None,
        "last_good_age_seconds": round(latest.age_seconds) if latest else None,
        "last_good_size_bytes": latest.size_bytes if latest else None,
    }
