#!/usr/bin/env python
"""Benchmark: Takeout import of a Records.json with N points (default 1,000,000).

Prints, all measured in this run on this machine:
  - end-to-end import rate (manage.py import_takeout --sync in a child process:
    hashing, archive checks, streaming parse, normalize, COPY, dedupe insert),
  - the raw COPY rate of the same rows straight into the same hypertable,
  - their ratio (target >= 0.5), the import's peak RSS (target < 400 MB),
  - parse-only rates of our parser and of google_takeout_parser on the same file,
  - a second case: Fit All Data files of M data points (default 1,000,000; 40 %
    step counts and 30 % heart rates, stored as events, 30 % location samples,
    stored as points) imported end to end: its rate and peak RSS.

Run with the project's environment up (scripts/setup.sh):
    .venv/bin/python scripts/bench_import.py [--points N] [--fit-points M]
Bench users and their rows are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from apps.lake.sample_takeout import write_fit_all_data_zip, write_records_zip  # noqa: E402
from apps.lake.takeout import location_records  # noqa: E402
from apps.lake.takeout.records import LocationRecord  # noqa: E402
from apps.privacy.context import system_context, user_context  # noqa: E402
from apps.privacy.rls import bulk_role  # noqa: E402

MEMBER = "Takeout/Location History (Timeline)/Records.json"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f} points/s ({seconds:.1f} s)"


def bench_import(archive: Path, username: str) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of the CLI import in a child process.

    Peak RSS is the child's own VmHWM, polled from /proc: getrusage would also
    count this (large) parent's pages, which Linux charges to a child at exec.
    """
    log = tempfile.TemporaryFile()
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "import_takeout",
            str(archive),
            "--user",
            username,
            "--sync",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    peak_kib = 0
    status = Path(f"/proc/{child.pid}/status")
    while child.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    if child.wait() != 0:
        log.seek(0)
        raise SystemExit(f"import failed: {log.read().decode()[-2000:]}")
    return elapsed, peak_kib


def copy_payload(records_json: Path, user_id: int) -> tuple[bytes, int]:
    """The same rows as COPY text, prepared before timing so only the database is measured."""
    lines = []
    with open(records_json, "rb") as stream:
        for record in location_records.parse(stream, PurePosixPath("Records.json")):
            if type(record) is not LocationRecord:
                continue
            lines.append(
                f"{user_id}\t{record.recorded_at.isoformat()}\tSRID=4326;POINT({record.longitude} {record.latitude})\t"
                f"{record.accuracy_m if record.accuracy_m is not None else chr(92) + 'N'}\t{record.source}\n"
            )
    return "".join(lines).encode(), len(lines)


def bench_raw_copy(payload: bytes, user_id: int) -> float:
    """COPY as the import's writer does it: as the bulk role (COPY FROM is refused
    under row-level security), in the user's context."""
    started = time.perf_counter()
    with (
        user_context(user_id),
        transaction.atomic(),
        connection.cursor() as cursor,
        bulk_role(cursor, user_id=user_id),
        cursor.cursor.copy(
            "COPY lake_locationpoint (user_id, recorded_at, point, accuracy_m, source) FROM STDIN"
        ) as copy,
    ):
        view = memoryview(payload)
        for offset in range(0, len(view), 1 << 20):
            copy.write(view[offset : offset + (1 << 20)])
    return time.perf_counter() - started


def bench_parse_ours(records_json: Path) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    with open(records_json, "rb") as stream:
        for record in location_records.parse(stream, PurePosixPath("Records.json")):
            count += type(record) is LocationRecord
    return time.perf_counter() - started, count


def bench_parse_peer(records_json: Path) -> tuple[float, int, str]:
    from google_takeout_parser import parse_json

    try:
        import orjson  # noqa: F401

        flavour = "with orjson"
    except ImportError:
        flavour = "stdlib json, its default install"
    started = time.perf_counter()
    count = sum(
        1
        for item in parse_json._parse_location_history(records_json)
        if not isinstance(item, Exception)
    )
    return time.perf_counter() - started, count, flavour


def bench_fit(points: int, username: str, user_id: int) -> tuple[float, int, int]:
    """Import time, peak RSS (KiB) and rows stored for a Fit All Data archive of ``points``."""
    with tempfile.TemporaryDirectory(prefix="datapunk-bench-fit-") as tmp:
        archive = write_fit_all_data_zip(Path(tmp) / "takeout-fit.zip", points)
        print(f"fit input: {points:,} data points, zip {archive.stat().st_size / 2**20:.0f} MiB")
        seconds, peak_kib = bench_import(archive, username)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM lake_event WHERE user_id = %s)"
            " + (SELECT count(*) FROM lake_locationpoint WHERE user_id = %s)",
            [user_id, user_id],
        )
        stored = cursor.fetchone()[0]
    return seconds, peak_kib, stored


def delete_user_rows(user) -> None:
    with system_context():
        with connection.cursor() as cursor:
            for table in ("lake_locationpoint", "lake_event", "lake_quarantine"):
                cursor.execute(f"DELETE FROM {table} WHERE user_id = %s", [user.pk])
        user.delete()


def main() -> None:
    # The bench's own reads and clean-up span its users (row-level security).
    with system_context():
        run()


def run() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--fit-points", type=int, default=1_000_000, help="0 skips the Fit case")
    args = parser.parse_args()
    users = get_user_model().objects
    stamp = int(time.time())
    import_user = users.create_user(f"bench-import-{stamp}")
    copy_user = users.create_user(f"bench-copy-{stamp}")
    fit_user = users.create_user(f"bench-fit-{stamp}")
    try:
        with tempfile.TemporaryDirectory(prefix="datapunk-bench-") as tmp:
            archive = write_records_zip(Path(tmp) / "takeout-bench.zip", args.points)
            records_json = Path(tmp) / "Records.json"
            with (
                zipfile.ZipFile(archive) as zf,
                zf.open(MEMBER) as src,
                open(records_json, "wb") as dst,
            ):
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            print(
                f"input: {args.points:,} points, zip {archive.stat().st_size / 2**20:.0f} MiB, "
                f"Records.json {records_json.stat().st_size / 2**20:.0f} MiB"
            )

            payload, rows = copy_payload(records_json, copy_user.pk)
            copy_seconds = bench_raw_copy(payload, copy_user.pk)
            del payload
            import_seconds, peak_kib = bench_import(archive, import_user.username)
            with system_context(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM lake_locationpoint WHERE user_id = %s", [import_user.pk]
                )
                imported = cursor.fetchone()[0]
            assert imported == rows == args.points, (imported, rows)

            ours_seconds, ours_count = bench_parse_ours(records_json)
            peer_seconds, peer_count, flavour = bench_parse_peer(records_json)
            ratio = copy_seconds / import_seconds
            print(f"raw COPY into lake_locationpoint : {rate(rows, copy_seconds)}")
            print(f"import_takeout end to end        : {rate(imported, import_seconds)}")
            print(f"ratio import / raw COPY          : {ratio:.2f}   (target >= 0.50)")
            print(
                f"import peak RSS                  : {peak_kib / 1024:.0f} MB   (target < 400 MB)"
            )
            print(f"parse only, datapunk             : {rate(ours_count, ours_seconds)}")
            print(
                f"parse only, google_takeout_parser: {rate(peer_count, peer_seconds)} [{flavour}]"
            )
            print(
                f"parse speed-up over the peer     : {peer_seconds / ours_seconds:.2f}x", flush=True
            )
        if args.fit_points:
            fit_seconds, fit_peak_kib, fit_stored = bench_fit(
                args.fit_points, fit_user.username, fit_user.pk
            )
            assert fit_stored == args.fit_points, (fit_stored, args.fit_points)
            print(
                f"fit All Data import end to end   : {args.fit_points / fit_seconds:>12,.0f}"
                f" data points/s ({fit_seconds:.1f} s)"
            )
            print(f"fit All Data import peak RSS     : {fit_peak_kib / 1024:.0f} MB")
    finally:
        connection.close()  # a fresh connection for the clean-up, whatever became of this one
        with system_context():
            delete_user_rows(import_user)
            delete_user_rows(copy_user)
            delete_user_rows(fit_user)


if __name__ == "__main__":
    main()
