"""Migration ops 0002: backup and archive runs take the Job shape (apps/core/jobs.py)
and keep every row: "ok" is "done", created_at is when the run started, ArchiveRun's
errors are its error; migrating back gives the rows as they were."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.core.db.roles import table_owner

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ops", "0001_backup_and_archive_runs")]
AFTER = [("ops", "0002_runs_as_jobs")]
T0 = dt.datetime(2026, 12, 1, 3, 15, tzinfo=dt.UTC)


def _migrate(targets) -> None:
    with table_owner():  # as manage.py migrate runs: the tables' owner, not the app role
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_runs_keep_their_data_both_ways():
    _migrate(BEFORE)
    try:
        with table_owner(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO ops_backuprun (kind, status, label, error, started_at, finished_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    ("full", "ok", "20261201-031500F", "", T0, T0 + dt.timedelta(minutes=5)),
                    ("incr", "failed", "", "disk full", T0 + dt.timedelta(days=1), None),
                    ("incr", "running", "", "", T0 + dt.timedelta(days=2), None),
                ],
            )
            cursor.executemany(
                "INSERT INTO ops_archiverun (status, uploads_archived, uploads_bytes, uploads_kept,"
                " quarantine_archived, archive_path, errors, started_at, finished_at)"
                " VALUES (%s, 1, 2, 0, 3, '/a', %s, %s, %s)",
                [("ok", "", T0, T0), ("partial", "upload 7: gone", T0, T0)],
            )
        _migrate(AFTER)
        assert _rows(
            "SELECT kind, status, label, error, created_at, started_at, finished_at"
            " FROM ops_backuprun ORDER BY id"
        ) == [
            ("full", "done", "20261201-031500F", "", T0, T0, T0 + dt.timedelta(minutes=5)),
            ("incr", "failed", "", "disk full", *(2 * [T0 + dt.timedelta(days=1)]), None),
            ("incr", "running", "", "", *(2 * [T0 + dt.timedelta(days=2)]), None),
        ]
        assert _rows(
            "SELECT status, error, created_at, started_at, quarantine_archived"
            " FROM ops_archiverun ORDER BY id"
        ) == [("done", "", T0, T0, 3), ("partial", "upload 7: gone", T0, T0, 3)]

        _migrate(BEFORE)
        assert _rows("SELECT status, started_at FROM ops_backuprun ORDER BY id") == [
            ("ok", T0),
            ("failed", T0 + dt.timedelta(days=1)),
            ("running", T0 + dt.timedelta(days=2)),
        ]
        assert _rows("SELECT status, errors FROM ops_archiverun ORDER BY id") == [
            ("ok", ""),
            ("partial", "upload 7: gone"),
        ]
    finally:
        _migrate(AFTER)
