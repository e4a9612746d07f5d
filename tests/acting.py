"""Test setup that acts as the user whose rows it writes, as the app does.

Tests run under row-level security with no user context (tests/conftest.py):
a test writes or reads a user's rows inside ``as_user(user)``, through these
helpers or an app's own (tests/<app>/conftest.py), and leaves that context
before it calls the code under test, so that code must enter its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from apps.core.db.context import user_context
from apps.lake.models import Import
from apps.lake.pipeline import records_store
from apps.lake.takeout.records import Record
from apps.lake.writer import FlushResult


def _pk(user) -> int:
    return user if isinstance(user, int) else user.pk


@contextmanager
def as_user(user) -> Iterator[None]:
    """The block's queries act as ``user`` (a user or an id) under RLS."""
    with user_context(_pk(user)):
        yield


def store_records(user, records: Iterable[Record], *, source: str = "test") -> FlushResult:
    """``records_store`` as the user, as an ingest request or a task runs it."""
    with as_user(user):
        return records_store(user_id=_pk(user), source=source, records=list(records))


def takeout_prepare(user, *paths: Path) -> Import:
    """``takeout_import_prepare`` as the user, as the upload view and the command run it."""
    from apps.lake.services import takeout_import_prepare

    with as_user(user):
        return takeout_import_prepare(user=user, paths=list(paths))
