#!/usr/bin/env python
"""Where the time goes per point on the Records.json path, step by step (µs per point).

Each step is timed alone on the same in-memory Records.json of N points (default
200,000), best of three, for the generic reader (ijson, a dict per item) and for the
fast path (msgspec Structs a chunk at a time); then the per-point steps after parsing
(normalize.location_row, psycopg's binary COPY encoding into a file, BatchWriter.add
without the database). No database is touched, so the figures are the Python process's
own; the README's table is made from this output.

    .venv/bin/python scripts/bench_location_steps.py [--points N]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from psycopg import Copy  # noqa: E402
from psycopg.copy import FileWriter  # noqa: E402

from apps.lake.batch.points import _POINT_TYPES  # noqa: E402
from apps.lake.normalize import location_row  # noqa: E402
from apps.lake.sample_takeout import records_json_lines  # noqa: E402
from apps.lake.takeout import jsonstream  # noqa: E402
from apps.lake.takeout.location import records as location_records  # noqa: E402
from apps.lake.takeout.location import records_fast  # noqa: E402
from apps.lake.takeout.records import LocationRecord  # noqa: E402

PATH = PurePosixPath("Records.json")


def best(step: Callable[[], int], runs: int = 3) -> tuple[float, int]:
    timings = []
    for _ in range(runs):
        # CPU time of this process: on a machine shared with other work, wall time
        # mostly measures the others.
        started = time.process_time()
        count = step()
        timings.append(time.process_time() - started)
    return min(timings), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=200_000)
    points = parser.parse_args().points
    raw = b"".join(records_json_lines(points))
    records = [
        record
        for record in location_records.parse(io.BytesIO(raw), PATH)
        if isinstance(record, LocationRecord)
    ]
    rows = [location_row(record, 1, 2) for record in records]

    def ijson_items() -> int:
        return sum(1 for _ in jsonstream.iter_items(io.BytesIO(raw), "locations.item"))

    def generic_records() -> int:
        items = jsonstream.iter_items(io.BytesIO(raw), "locations.item")
        return sum(1 for _ in location_records._from_items(items))

    def msgspec_chunks() -> int:
        chunks = records_fast._chunks(io.BytesIO(raw), location_records._from_items)
        return sum(len(chunk[1]) for chunk in chunks if isinstance(chunk, tuple))

    def fast_records() -> int:
        return sum(1 for _ in location_records.parse(io.BytesIO(raw), PATH))

    def normalize() -> int:
        for record in records:
            location_row(record, 1, 2)
        return len(records)

    def copy_encoding() -> int:
        with (
            connection.cursor() as cursor,
            Copy(cursor.cursor, binary=True, writer=FileWriter(io.BytesIO())) as copy,
        ):
            copy.set_types(_POINT_TYPES)
            write = copy.write_row
            for row in rows:
                write(row)
        return len(rows)

    steps = (
        ("generic: ijson builds a dict per item", ijson_items),
        ("generic: dict to LocationRecord (9 pops, checks, time)", generic_records),
        ("fast: msgspec decodes chunks into Structs", msgspec_chunks),
        ("fast: Struct to LocationRecord (time, data shared)", fast_records),
        ("normalize.location_row (EWKB, jsonb, the COPY tuple)", normalize),
        ("psycopg binary COPY encoding of the tuple", copy_encoding),
    )
    print(f"{points:,} points, load average {os.getloadavg()[0]:.1f}; CPU µs per point, best of 3")
    previous = 0.0
    for label, step in steps:
        seconds, count = best(step)
        assert count == points, (label, count)
        per_point = seconds / count * 1e6
        # Each parse line includes the one before it; its own share is the difference.
        own = per_point - previous if label.startswith(("generic: dict", "fast: Struct")) else None
        extra = f"  (this step alone: {own:.2f})" if own is not None else ""
        print(f"  {label:<58} {per_point:6.2f}{extra}")
        previous = per_point


if __name__ == "__main__":
    main()
