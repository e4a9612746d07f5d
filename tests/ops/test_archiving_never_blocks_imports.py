"""WAL archiving failing (repository gone) must not stop the lake: imports go on."""

import time

import pytest
from django.conf import settings as django_settings
from django.db import connection

from apps.core.db.roles import table_owner
from apps.lake.sample_takeout import build_sample_takeout
from apps.ops.selectors import backup_health

pytestmark = pytest.mark.django_db(transaction=True)


def _archiver() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT archived_count, failed_count FROM pg_stat_archiver")
        return cursor.fetchone()


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def _set_archive_command(command: str | None) -> None:
    # ALTER SYSTEM is a superuser's: the owner the app logs in as, not its working role.
    with table_owner(), connection.cursor() as cursor:
        if command is None:
            cursor.execute("ALTER SYSTEM RESET archive_command")
        else:
            cursor.execute(f"ALTER SYSTEM SET archive_command = '{command}'")
        cursor.execute("SELECT pg_reload_conf()")


def _switch_wal() -> None:
    with table_owner(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_switch_wal()")


def test_import_succeeds_while_wal_archiving_fails_and_archiving_catches_up_after(
    make_user, tmp_path, import_takeout
):
    stanza = django_settings.DATAPUNK_BACKUP_STANZA
    _, failed_before = _archiver()
    # The server's own archive_command, pointed at a repository that is not there.
    _set_archive_command(
        f"pgbackrest --stanza={stanza} --repo1-path=/var/tmp/datapunk-no-such-repo "
        "--archive-timeout=5 archive-push %p"
    )
    try:
        owner = make_user("archiving-broken")
        import_takeout(owner, build_sample_takeout(tmp_path / "t.zip", points=200))
        _switch_wal()
        assert _wait(lambda: _archiver()[1] > failed_before, 60), "archive_command never failed"
        health = backup_health()
        assert not health.ok and "WAL archiving is failing" in health.detail, health.detail
    finally:
        _set_archive_command(None)
    # Fixed: PostgreSQL kept the WAL and ships it now; the chain has no gap.
    archived_before, _ = _archiver()
    _switch_wal()
    assert _wait(lambda: _archiver()[0] > archived_before, 90), "archiving did not resume"
    assert "WAL archiving is failing" not in backup_health().detail
