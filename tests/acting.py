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


def takeout_import(user, *paths: Path) -> Import | None:
    """An import of ``paths`` prepared and run to the end as the user, as the task runs it
    (None: another process holds its lock). Tests use the ``import_takeout`` fixture."""
    from apps.lake.services import takeout_import_run

    prepared = takeout_prepare(user, *paths)
    with as_user(user):
        return takeout_import_run(import_id=prepared.pk)


def system_context_reason(marker) -> str:
    """Why a test marked ``system_context`` may see every user's rows; ValueError without one."""
    reason = marker.kwargs.get("reason", marker.args[0] if marker.args else "")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(
            '@pytest.mark.system_context needs reason="why this test sees every user\'s rows"'
        )
    return reason


def count_of(user, model, **filters) -> int:
    """How many of ``user``'s rows of ``model`` match ``filters``, counted as ``user``."""
    with as_user(user):
        return model.objects.filter(user_id=_pk(user), **filters).count()


def one_of(user, model, **filters):
    """``user``'s one row of ``model`` matching ``filters``, read as ``user``."""
    with as_user(user):
        return model.objects.get(user_id=_pk(user), **filters)


def all_of(user, model, *order_by: str, **filters) -> list:
    """``user``'s rows of ``model`` matching ``filters`` (in ``order_by``), read as ``user``."""
    with as_user(user):
        return list(model.objects.filter(user_id=_pk(user), **filters).order_by(*order_by))


def refreshed(row):
    """``row`` as the database has it now, read as its user (a row without ``user_id``: as is)."""
    user_id = getattr(row, "user_id", None)
    if user_id is None:
        row.refresh_from_db()
        return row
    with as_user(user_id):
        row.refresh_from_db()
    return row
