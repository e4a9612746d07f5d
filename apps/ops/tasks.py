from apps.core.retry import datapunk_task
from apps.ops.services import BackupError, archive_policies_run, backup_run


# A failed backup is recorded on its BackupRun row and shows on /health/ready;
# retrying blindly would only repeat it against the same repository.
def _backup(kind: str) -> str:
    """The new backup's label, or why it failed."""
    try:
        return backup_run(kind=kind).label
    except BackupError as exc:
        return f"failed: {exc}"


@datapunk_task()
def backup_full() -> str:
    return _backup("full")


@datapunk_task()
def backup_incremental() -> str:
    return _backup("incr")


@datapunk_task()
def archive_policies() -> int:
    """Run the archive policies once; returns the ArchiveRun id."""
    return archive_policies_run().pk
