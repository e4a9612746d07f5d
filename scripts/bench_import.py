#!/usr/bin/env python
"""Benchmark: Takeout import of a Records.json with N points (default 1,000,000).

Prints, all measured in this run on this machine:
  - end-to-end import rate (manage.py import_takeout --sync in a child process:
    hashing, archive checks, streaming parse, normalize, COPY, dedupe insert),
  - the raw binary COPY rate of the same rows (same columns, bytes encoded
    before timing) straight into the same hypertable,
  - their ratio (target >= 0.85), the import's peak RSS (target < 200 MB),
  - parse-only rates (CPU time) of our parser and of google_takeout_parser on
    the same file (target: ours >= 3x),
  - the same import / raw COPY ratio for Fit All Data files of M data points
    (default = N; 40 % step counts and 30 % heart rates, stored as health
    measurements in lake_healthmetric, 30 % location samples, stored as points;
    peak RSS target < 400 MB) and for an on-device
    Timeline.json of N timelinePath points.

Each run appends one line (date, commit, sizes, load, ratios) to
scripts/bench_import_results.csv; ``--table`` prints the README's table from
the last two lines of N points. ``--points 200000`` is the quick check before a merge.

Run with the project's environment up (scripts/setup.sh):
    .venv/bin/python scripts/bench_import.py [--points N] [--fit-points M] [--table]
Bench users and their rows are deleted afterwards.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import OperationalError, connection, transaction  # noqa: E402
from psycopg import Copy  # noqa: E402
from psycopg.copy import FileWriter  # noqa: E402

from apps.core.db.context import system_context, user_context  # noqa: E402
from apps.core.db.roles import bulk_role  # noqa: E402
from apps.lake.batch.points import _POINT_TYPES, POINT_COLUMNS  # noqa: E402
from apps.lake.metrics import COLUMNS as METRIC_COLUMNS  # noqa: E402
from apps.lake.metrics import METRIC_TYPES as _METRIC_TYPES  # noqa: E402
from apps.lake.metrics import copy_row  # noqa: E402
from apps.lake.normalize import event_row, ewkb_point, location_row  # noqa: E402
from apps.lake.sample_takeout import (  # noqa: E402
    write_device_timeline_zip,
    write_fit_all_data_zip,
    write_records_zip,
)
from apps.lake.takeout.location import records as location_records  # noqa: E402
from apps.lake.takeout.records import EventRecord, LocationRecord, MetricRecord  # noqa: E402
from apps.lake.takeout.registry import SNIFF_BYTES, parser_for  # noqa: E402

MEMBER = "Takeout/Location History (Timeline)/Records.json"
RESULTS = ROOT / "scripts" / "bench_import_results.csv"
RESULT_FIELDS = (
    "date",
    "commit",
    "points",
    "fit_points",
    "load_1min",
    "parse_x_peer",
    "import_over_copy",
    "peak_rss_mb",
    "fit_import_over_copy",
    "fit_peak_rss_mb",
    "timeline_import_over_copy",
    "timeline_peak_rss_mb",
)
_EVENT_COLUMNS = (
    "user_id, source, kind, occurred_at, ended_at, title, text, url, location, data,"
    " content_hash, entry_id"
)
_EVENT_TYPES = [
    "int4",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "text",
    "text",
    "text",
    "bytea",
    "bytea",
    "bytea",
    "int8",
]


@dataclass
class Counts:
    points: int = 0
    events: int = 0
    metrics: int = 0


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f} points/s ({seconds:.1f} s)"


def bench_import(archive: Path, username: str) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of the CLI import in a child process.

    Peak RSS is the child's own VmHWM, polled from /proc: getrusage would also
    count this (large) parent's pages, which Linux charges to a child at exec.
    """
    log = tempfile.TemporaryFile()
    # The project's modules compiled first, as an installed Datapunk has them: with
    # PYTHONDONTWRITEBYTECODE set (as here) a checkout's child would compile ~150 of
    # them from source at every start, and the bench would time that.
    for package in ("apps", "datapunk"):
        compileall.compile_dir(ROOT / package, quiet=1)
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
        tail = log.read().decode()[-2000:]
        if "terminating connection" in tail:  # see case_against_copy
            raise OperationalError(tail.strip().splitlines()[-1])
        raise SystemExit(f"import failed: {tail}")
    return elapsed, peak_kib


def encode_rows(archive: Path, user_id: int, directory: Path) -> tuple[Path, Path, Path, Counts]:
    """The rows an import of ``archive`` stores, as binary COPY files (points, events,
    health measurements).

    Parsed and normalized by the import's own code, encoded by psycopg into
    files before any timing, so the raw COPY measures the database alone.
    """
    points_file, events_file = directory / "points.copy", directory / "events.copy"
    metrics_file = directory / "metrics.copy"
    counts = Counts()
    with (
        connection.cursor() as cursor,
        open(points_file, "wb") as points_out,
        open(events_file, "wb") as events_out,
        open(metrics_file, "wb") as metrics_out,
        zipfile.ZipFile(archive) as zf,
    ):
        with (
            Copy(cursor.cursor, binary=True, writer=FileWriter(points_out)) as point_copy,
            Copy(cursor.cursor, binary=True, writer=FileWriter(events_out)) as event_copy,
            Copy(cursor.cursor, binary=True, writer=FileWriter(metrics_out)) as metric_copy,
        ):
            point_copy.set_types(_POINT_TYPES)
            event_copy.set_types(_EVENT_TYPES)
            metric_copy.set_types(_METRIC_TYPES)
            for info in zf.infolist():
                path = PurePosixPath(info.filename)
                with zf.open(info) as head_stream:
                    parser = parser_for(path, head_stream.read(SNIFF_BYTES))
                if parser is None:
                    continue
                with zf.open(info) as stream:
                    for record in parser.parse(cast(BinaryIO, stream), path):
                        if type(record) is LocationRecord:
                            point_copy.write_row(location_row(record, user_id, None))
                            counts.points += 1
                        elif type(record) is MetricRecord:
                            metric_copy.write_row(copy_row(record, user_id, None))
                            counts.metrics += 1
                        elif type(record) is EventRecord:
                            row = event_row(record)
                            location = (
                                None
                                if row.longitude is None or row.latitude is None
                                else ewkb_point(row.longitude, row.latitude)
                            )
                            event_copy.write_row(
                                (
                                    user_id,
                                    "takeout",
                                    row.kind,
                                    row.occurred_at,
                                    row.ended_at,
                                    row.title,
                                    row.text,
                                    row.url,
                                    location,
                                    b"\x01" + row.data_json.encode(),
                                    row.content_hash,
                                    None,
                                )
                            )
                            counts.events += 1
    return points_file, events_file, metrics_file, counts


def _copy_file(copy, path: Path) -> None:
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            copy.write(chunk)


def bench_raw_copy(
    points_file: Path, events_file: Path, metrics_file: Path, counts: Counts, user_id: int
) -> float:
    """Binary COPY of the encoded rows, as the writer does it for points and health
    measurements: as the bulk role (COPY FROM is refused under row-level security), in
    the user's context, into the hypertables. Events go into a temporary table shaped
    like lake_event (its columns, defaults and indexes): the bulk role may not insert
    events, and the import itself moves them with INSERT ... SELECT."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_event")
        cursor.execute("CREATE TEMP TABLE bench_event (LIKE lake_event INCLUDING ALL)")
    started = time.perf_counter()
    with (
        user_context(user_id),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        with bulk_role(cursor, user_id=user_id):
            with cursor.cursor.copy(
                f"COPY lake_locationpoint ({POINT_COLUMNS}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                _copy_file(copy, points_file)
            if counts.metrics:
                with cursor.cursor.copy(
                    f"COPY lake_healthmetric ({METRIC_COLUMNS}) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    _copy_file(copy, metrics_file)
        if counts.events:
            with cursor.cursor.copy(
                f"COPY bench_event ({_EVENT_COLUMNS}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                _copy_file(copy, events_file)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_event")
    return seconds


def stored_rows(user_id: int) -> int:
    with system_context(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM lake_event WHERE user_id = %s)"
            " + (SELECT count(*) FROM lake_locationpoint WHERE user_id = %s)"
            " + (SELECT count(*) FROM lake_healthmetric WHERE user_id = %s)",
            [user_id, user_id, user_id],
        )
        return cursor.fetchone()[0]


# The last case's seconds (raw COPY, import), for the figures derived from them.
LAST_CASE: dict[str, float] = {}


def import_against_copy(
    label: str, archive: Path, import_user, copy_user, directory: Path
) -> tuple[float, int]:
    """Print and return (import / raw COPY, peak RSS in MB) for ``archive``."""
    points_file, events_file, metrics_file, counts = encode_rows(archive, copy_user.pk, directory)
    copy_seconds = bench_raw_copy(points_file, events_file, metrics_file, counts, copy_user.pk)
    for file in (points_file, events_file, metrics_file):
        file.unlink()
    import_seconds, peak_kib = bench_import(archive, import_user.username)
    stored = stored_rows(import_user.pk)
    rows = counts.points + counts.events + counts.metrics
    assert stored == rows, (label, stored, counts)
    ratio = copy_seconds / import_seconds
    LAST_CASE.update(copy=copy_seconds, imported=import_seconds)
    print(
        f"{label}: {counts.points:,} points + {counts.events:,} events"
        f" + {counts.metrics:,} health measurements (load average now"
        f" {os.getloadavg()[0]:.1f})"
    )
    print(f"  raw binary COPY of the same rows : {rate(rows, copy_seconds)}")
    print(f"  import_takeout end to end        : {rate(rows, import_seconds)}")
    print(f"  ratio import / raw COPY          : {ratio:.2f}")
    print(f"  import peak RSS                  : {peak_kib / 1024:.0f} MB", flush=True)
    return ratio, round(peak_kib / 1024)


# Parsing is one thread's work in both parsers: their CPU time (time.process_time)
# is compared, which the machine's other work does not inflate as it does wall time.


def case_against_copy(
    label: str, archive: Path, name: str, bench_users: dict, directory: Path
) -> tuple[float, int]:
    """import_against_copy for the users ``name`` and ``name``-copy; run once more, with
    new users, when the database ends the bench's connection (on a shared machine
    another process's tests may terminate every backend)."""
    for attempt in (1, 2):
        try:
            return import_against_copy(
                label, archive, bench_users[name], bench_users[f"{name}-copy"], directory
            )
        except OperationalError as exc:
            if attempt == 2:
                raise
            print(f"  the database ended the connection ({str(exc).strip()}): once more")
            connection.close()
            stamp = int(time.time())
            users = get_user_model().objects
            for key in (name, f"{name}-copy"):
                bench_users[f"{key}-retried"] = bench_users[key]  # still cleaned up
                bench_users[key] = users.create_user(f"bench-{key}-{stamp}")
    raise AssertionError("unreachable")


def bench_parse_ours(records_json: Path) -> tuple[float, int]:
    started = time.process_time()
    count = 0
    with open(records_json, "rb") as stream:
        for record in location_records.parse(stream, PurePosixPath("Records.json")):
            count += type(record) is LocationRecord
    return time.process_time() - started, count


def bench_parse_peer(records_json: Path) -> tuple[float, int, str]:
    from google_takeout_parser import parse_json

    try:
        import orjson  # noqa: F401

        flavour = "with orjson"
    except ImportError:
        flavour = "stdlib json, its default install"
    started = time.process_time()
    count = sum(
        1
        for item in parse_json._parse_location_history(records_json)
        if not isinstance(item, Exception)
    )
    return time.process_time() - started, count, flavour


def delete_user_rows(user) -> None:
    with system_context():
        with connection.cursor() as cursor:
            for table in (
                "lake_locationpoint",
                "lake_event",
                "lake_healthmetric",
                "lake_quarantine",
            ):
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
    parser.add_argument("--points", type=int, default=500_000)
    parser.add_argument(
        "--fit-points", type=int, default=None, help="default: --points; 0 skips the Fit case"
    )
    parser.add_argument(
        "--table", action="store_true", help="print the README table of the last two runs"
    )
    args = parser.parse_args()
    if args.table:
        print_table(args.points)
        return
    fit_points = args.points if args.fit_points is None else args.fit_points
    users = get_user_model().objects
    stamp = int(time.time())
    names = ("import", "import-copy", "start", "fit", "fit-copy", "timeline", "timeline-copy")
    bench_users = {name: users.create_user(f"bench-{name}-{stamp}") for name in names}
    result: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "commit": current_commit(),
        "points": args.points,
        "fit_points": fit_points,
        "load_1min": f"{os.getloadavg()[0]:.1f}",
    }
    try:
        with tempfile.TemporaryDirectory(prefix="datapunk-bench-") as tmp:
            directory = Path(tmp)
            archive = write_records_zip(directory / "takeout-bench.zip", args.points)
            records_json = directory / "Records.json"
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
            ratio, peak_mb = case_against_copy(
                "Records.json", archive, "import", bench_users, directory
            )
            result["import_over_copy"] = f"{ratio:.2f}"
            result["peak_rss_mb"] = peak_mb
            print("  targets: ratio >= 0.85, peak RSS < 200 MB")
            # What the import costs beyond its fixed start: the same child on 10 points.
            copy_seconds, import_seconds = LAST_CASE["copy"], LAST_CASE["imported"]
            tiny = write_records_zip(directory / "takeout-tiny.zip", 10, seed=2)
            start_seconds, _ = bench_import(tiny, bench_users["start"].username)
            tiny.unlink()
            print(
                f"  the same child on 10 points      : {start_seconds:.1f} s (its start);"
                f" import less that / raw COPY: {copy_seconds / max(import_seconds - start_seconds, 1e-3):.2f}",
                flush=True,
            )

            # Best of three each: the first run also pays for growing the process's heap.
            ours_seconds, ours_count = min(bench_parse_ours(records_json) for _ in range(3))
            peer_seconds, peer_count, flavour = min(
                bench_parse_peer(records_json) for _ in range(3)
            )
            assert ours_count == peer_count == args.points, (ours_count, peer_count)
            speedup = peer_seconds / ours_seconds
            result["parse_x_peer"] = f"{speedup:.2f}"
            print(f"parse only (CPU time), datapunk  : {rate(ours_count, ours_seconds)}")
            print(
                f"parse only, google_takeout_parser: {rate(peer_count, peer_seconds)} [{flavour}]"
            )
            print(f"parse speed-up over the peer     : {speedup:.2f}x   (target >= 3)", flush=True)
            archive.unlink()
            records_json.unlink()

            if fit_points:
                archive = write_fit_all_data_zip(directory / "takeout-fit.zip", fit_points)
                ratio, peak_mb = case_against_copy(
                    "Fit All Data", archive, "fit", bench_users, directory
                )
                result["fit_import_over_copy"] = f"{ratio:.2f}"
                result["fit_peak_rss_mb"] = peak_mb
                archive.unlink()

            archive = write_device_timeline_zip(directory / "timeline.zip", args.points)
            ratio, peak_mb = case_against_copy(
                "on-device Timeline.json", archive, "timeline", bench_users, directory
            )
            result["timeline_import_over_copy"] = f"{ratio:.2f}"
            result["timeline_peak_rss_mb"] = peak_mb
        record_result(result)
    finally:
        connection.close()  # a fresh connection for the clean-up, whatever became of this one
        with system_context():
            for user in bench_users.values():
                delete_user_rows(user)


def current_commit() -> str:
    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    # Code changed since that commit (the results file itself does not count).
    return commit + (
        "+changes"
        if git("status", "--porcelain", "--", "apps", "scripts", f":!{RESULTS.relative_to(ROOT)}")
        else ""
    )


def record_result(result: dict[str, object]) -> None:
    """One line per run in the committed results file the README's table is made from."""
    new_file = not RESULTS.exists()
    with open(RESULTS, "a", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=RESULT_FIELDS)
        if new_file:
            writer.writeheader()
        writer.writerow(result)
    print(f"figures appended to {RESULTS.relative_to(ROOT)}")


def print_table(points: int) -> None:
    """The README's table: the last two runs of ``points`` points, as Markdown."""
    with open(RESULTS, newline="") as source:
        runs = [row for row in csv.DictReader(source) if int(row["points"]) == points]
    # Runs with all three cases, when there are (--fit-points 0 skips one).
    runs = ([row for row in runs if row["fit_import_over_copy"]] or runs)[-2:]
    if not runs:
        raise SystemExit(f"no run of {points:,} points in {RESULTS.relative_to(ROOT)}")
    measures = (
        (
            "run (UTC), commit, load average",
            lambda r: f"{r['date']}, {r['commit']}, {r['load_1min']}",
        ),
        ("parse: Datapunk / google_takeout_parser", lambda r: f"{r['parse_x_peer']}x", "≥ 3x"),
        ("Records.json: import / raw binary COPY", lambda r: r["import_over_copy"], "≥ 0.85"),
        ("Records.json: import peak RSS", lambda r: f"{r['peak_rss_mb']} MB", "< 200 MB"),
        ("Fit All Data: import / raw binary COPY", lambda r: r["fit_import_over_copy"] or "-"),
        ("Fit All Data: import peak RSS", lambda r: f"{r['fit_peak_rss_mb'] or '-'} MB"),
        ("Timeline.json: import / raw binary COPY", lambda r: r["timeline_import_over_copy"]),
        ("Timeline.json: import peak RSS", lambda r: f"{r['timeline_peak_rss_mb']} MB"),
    )
    print("| measure | " + " | ".join(f"run {n + 1}" for n in range(len(runs))) + " | target |")
    print("|---|" + "---|" * len(runs) + "---|")
    for measure, value, *target in measures:
        cells = " | ".join(str(value(run)) for run in runs)
        print(f"| {measure} | {cells} | {target[0] if target else ''} |")


if __name__ == "__main__":
    main()
