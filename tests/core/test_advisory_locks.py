"""The advisory-lock registry: every namespace distinct, and used by the code."""

from __future__ import annotations

from django.db import connection

from apps.core import advisory_locks
from apps.lake import services as lake_services
from apps.lake.batch import events as event_batch
from apps.privacy import exports


def test_two_key_namespaces_are_distinct() -> None:
    values = list(advisory_locks.TWO_KEY_NAMESPACES.values())
    assert len(values) == len(set(values)), advisory_locks.TWO_KEY_NAMESPACES


def test_single_key_prefixes_are_distinct() -> None:
    values = list(advisory_locks.SINGLE_KEY_PREFIXES.values())
    assert len(values) == len(set(values))


def test_modules_take_their_namespace_from_the_registry() -> None:
    used = {
        "import": lake_services._LOCK_NAMESPACE,
        "history": event_batch._HISTORY_LOCK_NAMESPACE,
        "export": exports._LOCK_NAMESPACE,
    }
    assert len(set(used.values())) == len(used), used
    assert set(used.values()) <= set(advisory_locks.TWO_KEY_NAMESPACES.values())


def test_export_n_does_not_block_user_n_history_batch(django_db_blocker) -> None:
    """Export #5 holds its lock; another session takes user 5's history lock at once."""
    from django.db import connections

    with django_db_blocker.unblock():
        other = connections.create_connection("default")
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [exports._LOCK_NAMESPACE, 5])
                assert cur.fetchone()[0]
            try:
                with other.cursor() as cur2:
                    cur2.execute(
                        "SELECT pg_try_advisory_lock(%s, %s)",
                        [event_batch._HISTORY_LOCK_NAMESPACE, 5],
                    )
                    assert cur2.fetchone()[0], "history batch of user 5 blocked by export #5"
                    cur2.execute(
                        "SELECT pg_advisory_unlock(%s, %s)",
                        [event_batch._HISTORY_LOCK_NAMESPACE, 5],
                    )
            finally:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s, %s)", [exports._LOCK_NAMESPACE, 5])
        finally:
            other.close()
