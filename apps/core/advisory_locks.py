"""Every PostgreSQL advisory-lock namespace of the project, in one place.

Two-key locks ``pg_*advisory*_lock(namespace, id)`` take one of these as the
first key; two purposes sharing a number lock each other out (export #N and
user N's history batches once did). Single-key locks (one bigint) live in a
separate key space in PostgreSQL and are built by the helpers below.
tests/core/test_advisory_locks.py asserts the numbers are distinct.

``session_lock`` is the one way the services take a session lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# Two-key namespaces (int4): the second key is the id named after each.
IMPORT_RUN = 7_771_001  # lake: one worker per Import (id = import id)
HISTORY_BATCH = 7_771_002  # lake writer: one user's history batches (id = user id)
EXPORT_RUN = 7_771_003  # privacy: one worker per Export (id = export id)
SEARCH_BACKFILL = 0x5E4C  # analytics: one embedding backfill per user (id = user id)

TWO_KEY_NAMESPACES: dict[str, int] = {
    "IMPORT_RUN": IMPORT_RUN,
    "HISTORY_BATCH": HISTORY_BATCH,
    "EXPORT_RUN": EXPORT_RUN,
    "SEARCH_BACKFILL": SEARCH_BACKFILL,
}

# Single-key (bigint) prefixes: the purpose in the high bits, the id below.
CONNECTION_SYNC_PREFIX = 0x5359  # connectors: one sync per connection

SINGLE_KEY_PREFIXES: dict[str, int] = {"CONNECTION_SYNC_PREFIX": CONNECTION_SYNC_PREFIX}


def connection_sync_key(connection_id: int) -> int:
    """The bigint lock key of one connection's sync."""
    return (CONNECTION_SYNC_PREFIX << 40) | connection_id


@contextmanager
def session_lock(*keys: int) -> Iterator[bool]:
    """Try the session advisory lock ``(namespace, id)`` or ``(bigint,)`` without
    waiting; yields whether it was taken, and releases it after the block if so.

    A session lock outlives transactions (progress commits while it is held) and
    goes with the connection if the process dies.
    """
    if len(keys) not in (1, 2):
        raise ValueError("an advisory lock has one bigint key or two int keys")
    args = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock({args})", list(keys))
        taken = bool(cursor.fetchone()[0])
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT pg_advisory_unlock({args})", list(keys))
