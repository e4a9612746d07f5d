#!/usr/bin/env python
"""Benchmark: the HNSW vector index alone over N 384-dimension vectors (default 1,000,000).

(scripts/bench_search.py measures the search as it serves: relevance, hybrid latency.)

In one run, on this machine:
  1. generates N clustered unit vectors (sentence embeddings are clustered by
     topic; uniform random vectors are the unrealistic worst case, --spread
     makes clusters looser) and loads them with a binary COPY into an UNLOGGED
     scratch table (no WAL: it is thrown away afterwards);
  2. runs K exact searches (sequential scan, ORDER BY cosine distance): the
     baseline, both for latency and as the ground truth for recall;
  3. builds the HNSW cosine index (vector_cosine_ops, m / ef_construction /
     maintenance_work_mem as given) and times it;
  4. for each hnsw.ef_search given, runs the same K queries through the index
     and prints p50 / p95 latency and recall@10 against step 2.

Targets: p95 < 25 ms and recall@10 >= 0.95 for some ef_search.

    .venv/bin/python scripts/bench_vector_index.py      # 1,000,000 vectors
    .venv/bin/python scripts/bench_vector_index.py --n 100000 --queries 50
    .venv/bin/python scripts/bench_vector_index.py --reuse  # queries only, on a kept table

The table is dropped at the end unless --keep; --reuse skips loading and
building when a kept table with an index is there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

TABLE = "bench_search_vectors"
INDEX = "bench_search_vectors_hnsw"
DIMS = 384
# Rows generated and COPYed per round: ~150 MB of float32 at a time, whatever N.
CHUNK = 100_000


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class Corpus:
    """Clustered unit vectors: a topic centre plus noise, normalised (cosine space).

    Sentence embeddings vary along few directions (their intrinsic dimension is far
    below 384), so the noise around a centre lies in a ``latent``-dimension subspace,
    plus a little noise in all 384; ``latent=0`` makes it isotropic (the worst case).
    """

    def __init__(self, *, clusters: int, spread: float, latent: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.centres = unit(self.rng.standard_normal((clusters, DIMS), dtype=np.float32))
        self.spread = spread
        self.latent = latent
        # Orthonormal rows: a random latent-dimension subspace of the 384.
        basis = self.rng.standard_normal((DIMS, max(latent, 1)), dtype=np.float32)
        self.basis = np.linalg.qr(basis)[0].T.astype(np.float32)

    def sample(self, count: int) -> np.ndarray:
        which = self.rng.integers(0, len(self.centres), count)
        if self.latent:
            # Norm ~spread: cos(point, centre) ~ 1/sqrt(1 + spread^2).
            z = self.rng.standard_normal((count, self.latent), dtype=np.float32)
            noise = (z / np.sqrt(self.latent)) @ self.basis * self.spread
            noise += self.rng.standard_normal((count, DIMS), dtype=np.float32) * (
                0.1 * self.spread / np.sqrt(DIMS)
            )
        else:
            noise = self.rng.standard_normal((count, DIMS), dtype=np.float32)
            noise *= self.spread / np.sqrt(DIMS)
        return unit(self.centres[which] + noise).astype(np.float32)


# PostgreSQL binary COPY: a header, then per row a field count and (length, bytes) per
# field; pgvector's binary form is int16 dims, int16 unused, float4[dims], all big-endian.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("id_len", ">i4"),
        ("id", ">i8"),
        ("vec_len", ">i4"),
        ("dims", ">i2"),
        ("unused", ">i2"),
        ("vec", ">f4", (DIMS,)),
    ]
)


def copy_rows(first_id: int, vectors: np.ndarray) -> bytes:
    rows = np.zeros(len(vectors), dtype=ROW)
    rows["fields"] = 2
    rows["id_len"] = 8
    rows["id"] = np.arange(first_id, first_id + len(vectors))
    rows["vec_len"] = 4 + 4 * DIMS
    rows["dims"] = DIMS
    rows["vec"] = vectors
    return rows.tobytes()


def literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


class Session:
    """One autocommit connection that reconnects if the server ends it (others share
    this server: a test run may terminate backends) and restores its SET options."""

    def __init__(self) -> None:
        self.options: dict[str, str] = {}
        self.cursor = self._connect()

    def _connect(self):
        connection.close()
        connection.ensure_connection()
        raw = connection.connection
        raw.autocommit = True
        cursor = raw.cursor()
        # The scratch table is the benchmark's own (no user rows): create and drop
        # it as the database owner, not as the app role that may not run DDL.
        cursor.execute("RESET ROLE")
        for name, value in self.options.items():
            cursor.execute(f"SET {name} = {value}")
        return cursor

    def set(self, name: str, value: object) -> None:
        self.options[name] = str(value)
        self.run(f"SET {name} = {value}")

    def run(self, sql: str, params: list | None = None, *, attempts: int = 5):
        for attempt in range(attempts):
            try:
                self.cursor.execute(sql, params)
                return self.cursor.fetchall() if self.cursor.description else None
            except psycopg.OperationalError as error:
                if attempt == attempts - 1:
                    raise
                print(f"\n  connection lost ({error}); reconnecting and retrying", flush=True)
                time.sleep(2)
                self.cursor = self._connect()
        return None


def load(session: Session, corpus: Corpus, n: int) -> float:
    session.run(f"DROP TABLE IF EXISTS {TABLE}")
    session.run(f"CREATE UNLOGGED TABLE {TABLE} (id bigint NOT NULL, embedding vector({DIMS}))")
    started = time.perf_counter()
    copy_sql = f"COPY {TABLE} (id, embedding) FROM STDIN WITH (FORMAT BINARY)"
    with session.cursor.copy(copy_sql) as copy:
        copy.write(COPY_HEADER)
        for first in range(0, n, CHUNK):
            copy.write(copy_rows(first + 1, corpus.sample(min(CHUNK, n - first))))
            print(f"  loaded {min(first + CHUNK, n):>9,}", end="\r", flush=True)
        copy.write(COPY_TRAILER)
    print()
    session.run(f"ANALYZE {TABLE}")
    return time.perf_counter() - started


def search(session: Session, query: str, *, k: int = 10) -> tuple[list[int], float]:
    started = time.perf_counter()
    rows = session.run(
        f"SELECT id FROM {TABLE} ORDER BY embedding <=> %s::vector LIMIT %s", [query, k]
    )
    return [row[0] for row in rows], (time.perf_counter() - started) * 1000


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="vectors in the table")
    parser.add_argument("--queries", type=int, default=100, help="K queries (not in the table)")
    parser.add_argument("--clusters", type=int, default=2000, help="topics the vectors gather in")
    parser.add_argument("--spread", type=float, default=1.0, help="noise around a topic centre")
    parser.add_argument(
        "--latent", type=int, default=48, help="dimensions the noise spans (0: all, isotropic)"
    )
    parser.add_argument("--m", type=int, default=16, help="HNSW m")
    parser.add_argument("--ef-construction", type=int, default=128, help="as the app's index")
    parser.add_argument("--ef-search", default="100,200,400", help="comma-separated values")
    parser.add_argument("--maintenance-work-mem", default="4GB", help="the graph must fit")
    parser.add_argument("--parallel-workers", type=int, default=0, help="besides the leader")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch table")
    parser.add_argument("--reuse", action="store_true", help="use a kept table and index")
    args = parser.parse_args()

    corpus = Corpus(clusters=args.clusters, spread=args.spread, latent=args.latent, seed=args.seed)
    session = Session()
    session.run("CREATE EXTENSION IF NOT EXISTS vector")
    version = session.run("SELECT extversion FROM pg_extension WHERE extname = 'vector'")[0][0]
    print(
        f"pgvector {version}, {os.cpu_count()} cores; n={args.n:,} dims={DIMS} "
        f"clusters={args.clusters} spread={args.spread} latent={args.latent} "
        f"queries={args.queries}"
    )
    have_table = session.run("SELECT to_regclass(%s) IS NOT NULL", [TABLE])[0][0]
    rows = session.run(f"SELECT count(*) FROM {TABLE}")[0][0] if have_table else 0
    if args.reuse and rows == args.n:
        print(f"reusing {TABLE} ({rows:,} rows)")
        corpus.sample(args.n)  # the generator's state of a fresh run: the same queries
    else:
        session.run(f"DROP INDEX IF EXISTS {INDEX}")
        seconds = load(session, corpus, args.n)
        print(f"load (binary COPY):      {args.n / seconds:>10,.0f} vectors/s ({seconds:.1f} s)")
    queries = [literal(q) for q in corpus.sample(args.queries)]
    have_index = session.run("SELECT to_regclass(%s) IS NOT NULL", [INDEX])[0][0]

    # The baseline: exact search, a (parallel) sequential scan over every vector.
    session.set("enable_indexscan", "off")
    exact, exact_ms = [], []
    for query in queries:
        ids, ms = search(session, query)
        exact.append(set(ids))
        exact_ms.append(ms)
    session.set("enable_indexscan", "on")
    print(
        f"exact search (seq scan): p50 {percentile(exact_ms, 50):8.1f} ms   "
        f"p95 {percentile(exact_ms, 95):8.1f} ms"
    )

    if have_index:
        print(f"reusing index {INDEX}")
    else:
        session.set("maintenance_work_mem", f"'{args.maintenance_work_mem}'")
        session.set("max_parallel_maintenance_workers", args.parallel_workers)
        started = time.perf_counter()
        session.run(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} "
            f"USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {args.m}, ef_construction = {args.ef_construction})"
        )
        seconds = time.perf_counter() - started
        print(
            f"HNSW build (m={args.m}, ef_construction={args.ef_construction}, "
            f"maintenance_work_mem={args.maintenance_work_mem}, "
            f"{args.parallel_workers + 1} processes): {seconds:.0f} s"
        )
    size = session.run("SELECT pg_size_pretty(pg_relation_size(%s))", [INDEX])[0][0]
    print(f"index size: {size}")

    # Warm the index into memory once, as a serving database would have it.
    session.set("hnsw.ef_search", 400)
    for query in queries:
        search(session, query)
    print(f"{'ef_search':>9} | {'p50 ms':>7} | {'p95 ms':>7} | {'mean ms':>7} | recall@10")
    for ef in (int(v) for v in args.ef_search.split(",")):
        session.set("hnsw.ef_search", ef)
        took, hits = [], 0
        for query, truth in zip(queries, exact, strict=True):
            ids, ms = search(session, query)
            took.append(ms)
            hits += len(truth & set(ids))
        recall = hits / (10 * len(queries))
        verdict = "meets" if percentile(took, 95) < 25 and recall >= 0.95 else "misses"
        print(
            f"{ef:>9} | {percentile(took, 50):7.2f} | {percentile(took, 95):7.2f} | "
            f"{statistics.fmean(took):7.2f} | {recall:.3f}  ({verdict} p95 < 25 ms, "
            f"recall >= 0.95)"
        )
    print(
        f"speed-up of HNSW over exact at p50: "
        f"{percentile(exact_ms, 50) / max(percentile(took, 50), 1e-9):.0f}x "
        f"(last ef_search)"
    )
    if not args.keep:
        session.run(f"DROP TABLE {TABLE}")


if __name__ == "__main__":
    main()
