"""The restore drill: back up, change things, restore to the moment in between.

Real everything: pgBackRest backs up the cluster this test database lives on
(scripts/postgres.sh's, with WAL archiving on), scripts/restore.sh restores it
into a scratch cluster of its own (own data directory and port) up to a point
in time, and every table's row count, the hypertables' chunks, the PostGIS
geometries and a pgvector column must be what they were at that moment.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from apps.core.db.roles import table_owner
from apps.lake.sample_takeout import build_sample_takeout, records_json_lines
from apps.ops import pgbackrest
from apps.ops.selectors import backup_list
from apps.ops.services import backup_run

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _records_zip(path: Path, *, points: int, seed: int, start: datetime) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "Takeout/Location History (Timeline)/Records.json",
            b"".join(records_json_lines(points, seed=seed, start=start)),
        )
    return path


STATE_QUERIES = {
    # PostGIS: how many geometries, and where they are (a sum moves if any point does).
    "geometries": """
        SELECT count(point), round(sum(ST_X(point::geometry) + ST_Y(point::geometry))::numeric, 6)
        FROM lake_locationpoint""",
    "event locations": "SELECT count(location) FROM lake_event",
    "visit locations": "SELECT count(location) FROM lake_visit",
    "place locations": "SELECT count(location) FROM lake_place",
    # pgvector: the vectors themselves, not only how many.
    "vectors": "SELECT count(*), string_agg(embedding::text, ';' ORDER BY id) FROM drill_vectors",
    "chunks": """
        SELECT string_agg(hypertable_name || ':' || chunk_name, ',' ORDER BY chunk_name)
        FROM timescaledb_information.chunks""",
}


def lake_state(cursor) -> dict[str, object]:
    """Row count of every table in the public schema, plus STATE_QUERIES.

    Run as the tables' owner (here and on the scratch server alike), whom row-level
    security does not filter: every row of every user counts.
    """
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    tables = [name for (name,) in cursor.fetchall()]
    state: dict[str, object] = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        state[table] = cursor.fetchone()[0]
    for name, query in STATE_QUERIES.items():
        cursor.execute(query)
        state[name] = tuple(cursor.fetchone())
    return state


def _restore(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "restore.sh"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def vectors():
    # DDL is the owner's (the app works as an unprivileged role).
    with table_owner(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE drill_vectors (id serial PRIMARY KEY, embedding vector(3) NOT NULL)"
        )
    yield
    with table_owner(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS drill_vectors")


def _add_vectors(count: int, offset: int) -> None:
    with connection.cursor() as cursor:
        for index in range(offset, offset + count):
            cursor.execute(
                "INSERT INTO drill_vectors (embedding) VALUES (%s::vector)",
                [f"[{index}, {index / 7:.4f}, -{index / 3:.4f}]"],
            )


def test_point_in_time_restore_into_a_scratch_cluster_brings_back_the_first_state(
    make_user, tmp_path, settings, vectors, pg_root, import_takeout
):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.DATAPUNK_BACKUP_UPLOADS_DIR = tmp_path / "upload-backups"
    owner = make_user("drill")

    # First state: a whole sample Takeout, vectors, then a backup. Incremental as on
    # most days, full once a day as the schedule would: the server may hold other
    # databases (a long-lived machine), and without a new full now and then
    # retention never expires anything. The first backup of a repository is full.
    import_takeout(owner, build_sample_takeout(tmp_path / "first.zip", points=300, seed=7))
    _add_vectors(5, 0)
    fulls = [backup for backup in backup_list() if backup.kind == "full"]
    recent_full = fulls and fulls[-1].age_seconds < 86400
    backup = backup_run(kind="incr" if recent_full else "full")
    assert backup.label[-1] in "FI" and backup.size_bytes

    with table_owner(), connection.cursor() as cursor:
        first = lake_state(cursor)
        time.sleep(1.1)  # commits after the target must be strictly later than it
        cursor.execute("SELECT clock_timestamp()")
        target: datetime = cursor.fetchone()[0]
    time.sleep(1.1)

    # Second state: a later year of points (new chunks), more vectors, another user.
    later = datetime(2025, 6, 1, tzinfo=UTC)
    import_takeout(owner, _records_zip(tmp_path / "second.zip", points=200, seed=9, start=later))
    import_takeout(
        make_user("drill-2"), build_sample_takeout(tmp_path / "third.zip", points=50, seed=3)
    )
    _add_vectors(3, 5)
    with table_owner(), connection.cursor() as cursor:
        second = lake_state(cursor)
    assert second["lake_locationpoint"] == first["lake_locationpoint"] + 250  # type: ignore[operator]
    assert second["chunks"] != first["chunks"]
    assert second["vectors"] != first["vectors"]
    # Every WAL segment up to now must be in the archive before restoring past the target.
    pgbackrest.run("check", timeout=120)

    name, port = f"drill-{uuid.uuid4().hex[:8]}", _free_port()
    # The running cluster's asynchronous archive-push keeps its queue in the stanza's
    # spool folder; a restore empties the spool it is given, so a scratch restore must
    # be given another (CI once failed here: "unable to remove path ... not empty").
    live_spool = pg_root / "var/spool/pgbackrest/archive" / settings.DATAPUNK_BACKUP_STANZA
    live_spool.mkdir(parents=True, exist_ok=True)
    marker = live_spool / f"{name}.marker"
    marker.touch()
    restored = _restore(
        *("--scratch", name, "--port", str(port)),
        *("--only-database", connection.settings_dict["NAME"]),
        *(
            "--target",
            f"{target.astimezone(UTC):%Y-%m-%d %H:%M:%S}.{target.microsecond // 1000:03d}+00",
        ),
    )
    try:
        assert restored.returncode == 0, restored.stderr
        db = settings.DATABASES["default"]
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            dbname=connection.settings_dict["NAME"],
            user=db["USER"],
            password=db["PASSWORD"],
        ) as scratch:
            with scratch.cursor() as cursor:
                back = lake_state(cursor)
    finally:
        removed = _restore("--scratch-remove", name)
        spool_kept = marker.exists()
        marker.unlink(missing_ok=True)
    assert removed.returncode == 0, removed.stderr
    assert spool_kept, "the scratch restore emptied the running cluster's archive spool"

    mismatched = {
        key: (first.get(key), back.get(key))
        for key in first | back
        if first.get(key) != back.get(key)
    }
    assert not mismatched, mismatched
    # The comparison covered the lake, not an empty database.
    assert first["lake_locationpoint"] == 300 and first["lake_event"]
    assert first["vectors"][0] == 5  # type: ignore[index]
    print(
        f"\ndrill: backup {backup.label}, restored to {target.isoformat()} on port {port}: "
        f"{len(first) - len(STATE_QUERIES)} tables, {first['lake_locationpoint']} points, "
        f"{first['lake_event']} events, chunks {first['chunks']}, all equal; "
        f"the second state had {second['lake_locationpoint']} points"
    )


def test_restore_script_refuses_in_place_restore_without_yes():
    done = _restore()
    assert done.returncode == 1
    assert "--yes" in done.stderr
