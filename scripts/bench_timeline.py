#!/usr/bin/env python
"""Benchmark: timeline pages on a user with N events (default 1,000,000).

Writes N events over ~10 years for a bench user (one INSERT ... SELECT in the server,
under system_context), plus N/10 events of another user, ANALYZEs, then
measures in this run:
  - the first page (newest 50) and a page at every decile of the history,
    reached by keyset cursor: median latency of each, and its ratio to the first
    page's (keyset pages should cost about the same wherever they are);
  - the same deep pages fetched with OFFSET, the baseline keyset replaces;
  - full-text search pages: a common phrase, a rare word (ten events in a million)
    and a word no event has, read through the GIN index under row-level security;
and prints the EXPLAIN of the deepest keyset page (an index scan on
analytics_event_user_time from the cursor, no sort).

    .venv/bin/python scripts/bench_timeline.py [--events N]

The bench users and their rows are deleted afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from apps.analytics.filters import EventFilters, event_filters_from_params  # noqa: E402
from apps.analytics.timeline import Cursor, timeline_queryset  # noqa: E402
from apps.core.db.context import system_context, user_context  # noqa: E402
from apps.core.db.roles import table_owner  # noqa: E402
from apps.lake.models import Event  # noqa: E402

WORDS = "ramen osaka woodworking video lisbon tram fado walk market coffee train museum".split()
KINDS = ["youtube.watch", "chrome.visit", "activity.search", "gmail.message", "spotify.play"]
START = dt.datetime(2016, 1, 1, tzinfo=dt.UTC)
SPAN_S = 10 * 365 * 86400
PAGE = 50
RARE_WORD = "zanzibar"
RARE_EVERY = 100_000


def fill(user_id: int, count: int) -> None:
    """``count`` events spread evenly over SPAN_S seconds, generated in the server."""
    kinds = "ARRAY[" + ", ".join(f"'{kind}'" for kind in KINDS) + "]"
    words = "ARRAY[" + ", ".join(f"'{word}'" for word in WORDS) + "]"
    with system_context(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO lake_event (user_id, source, kind, occurred_at, title, text, url, data, "
            "content_hash) "
            f"SELECT %s, 'bench', ({kinds})[1 + i %% {len(KINDS)}], "
            "%s + make_interval(secs => i * %s), "
            f"({words})[1 + (i * 7) %% {len(WORDS)}] || ' ' || ({words})[1 + (i * 7 + 1) %% {len(WORDS)}]"
            f" || ' ' || ({words})[1 + (i * 7 + 2) %% {len(WORDS)}] || ' ' || i"
            # A rare word: one event in RARE_EVERY has it (ten in a million).
            f" || CASE WHEN i %% {RARE_EVERY} = 7 THEN ' {RARE_WORD}' ELSE '' END, "
            "'', '', '{}'::jsonb, int8send(i) || int8send(%s) "
            "FROM generate_series(0, %s - 1) AS i",
            [user_id, START, SPAN_S / count, user_id, count],
        )


def timed(fn, repeat: int = 7) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    users = get_user_model().objects
    stamp = int(time.time())
    user = users.create_user(f"bench-timeline-{stamp}")
    other = users.create_user(f"bench-timeline-other-{stamp}")
    run(user, other, args.events)


def run(user, other, events: int) -> None:
    try:
        t0 = time.perf_counter()
        fill(user.pk, events)
        fill(other.pk, events // 10)
        # As the owner: the app role may not VACUUM or ANALYZE (it would skip with a
        # warning), and a freshly filled GIN index has its entries in a pending list
        # until VACUUM (autovacuum does this in life).
        with table_owner(), connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE lake_event")
        print(f"wrote {events:,} + {events // 10:,} events in {time.perf_counter() - t0:.1f} s")
        # Pages are read as a request reads them: inside the user's context, under RLS.
        with user_context(user.pk):
            measure(user, events)
    finally:
        with system_context(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM lake_event WHERE user_id IN (%s, %s)", [user.pk, other.pk])
        user.delete()
        other.delete()


def measure(user, events: int) -> None:
    filters = EventFilters()
    first_ms = timed(lambda: list(timeline_queryset(user=user, filters=filters)[:PAGE]))
    print(f"first page (newest {PAGE}): {first_ms:.2f} ms")
    print(f"{'depth':>8} {'keyset ms':>10} {'ratio to first':>15} {'OFFSET ms':>10}")
    ordered = Event.objects.filter(user=user).order_by("-occurred_at", "-id")
    deepest_cursor: Cursor | None = None
    for decile in (1, 5, 9):
        depth = events * decile // 10
        anchor = ordered.values_list("occurred_at", "id")[depth]
        page_cursor = Cursor(occurred_at=anchor[0], id=anchor[1])
        deepest_cursor = page_cursor
        keyset_ms = timed(
            lambda c=page_cursor: list(
                timeline_queryset(user=user, filters=filters, cursor=c)[:PAGE]
            )
        )
        offset_ms = timed(
            lambda d=depth: list(
                Event.objects.filter(user=user).order_by("-occurred_at", "-id")[d : d + PAGE]
            ),
            repeat=3,
        )
        print(f"{depth:>8,} {keyset_ms:>10.2f} {keyset_ms / first_ms:>15.2f} {offset_ms:>10.1f}")

    # A common phrase has matches everywhere, a rare word a few (one in RARE_EVERY), a
    # word no event has none: the last two read only the GIN index's few entries.
    expected_rare = min(PAGE, len(range(7, events, RARE_EVERY)))
    for words in ("ramen osaka", RARE_WORD, "nowhere-to-be-found"):
        search = event_filters_from_params({"q": words}, user=user)
        found = list(timeline_queryset(user=user, filters=search, limit=PAGE)[:PAGE])
        search_ms = timed(
            lambda f=search: list(timeline_queryset(user=user, filters=f, limit=PAGE)[:PAGE]),
            repeat=5,
        )
        print(f"full-text page (q={words!r}): {search_ms:.2f} ms, {len(found)} events")
        if words == RARE_WORD and len(found) != expected_rare:
            raise SystemExit(
                f"expected {expected_rare} events with {RARE_WORD!r}, not {len(found)}"
            )

    sql, params = timeline_queryset(user=user, filters=filters, cursor=deepest_cursor)[
        :PAGE
    ].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    print("EXPLAIN of the deepest keyset page:")
    for line in plan[:14]:
        print("   ", line)
    if len(plan) > 14:
        print(f"    ... ({len(plan) - 14} more lines: one index scan per older chunk)")


if __name__ == "__main__":
    main()
