"""Whose rows a database connection may touch (PostgreSQL row-level security).

Every user-owned table carries ``user_id``; its RLS policy compares that column
with the connection setting ``datapunk.user_id``. Requests, tasks, consumers and
commands enter ``user_context(user_id)`` before they read or write a user's rows;
work that spans users on purpose (a beat task choosing whom to sync, the admin)
enters ``system_context()``, which is explicit and easy to find in review.

The setting is session-level (``set_config(..., false)``) so it holds across the
transactions a block opens, and each block restores what was there before, so
blocks nest. Outside any block a connection sees no user's rows at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, connection

P = ParamSpec("P")
R = TypeVar("R")

USER_SETTING = "datapunk.user_id"
SYSTEM_SETTING = "datapunk.system"


def _read(names: list[str]) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s, true)"] * len(names)), names)
        return {name: value or "" for name, value in zip(names, cursor.fetchone(), strict=True)}


def _write(values: dict[str, str]) -> None:
    params: list[str] = []
    for name, value in values.items():
        params += [name, value]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, false)"] * len(values)), params)


@contextmanager
def settings_context(values: dict[str, str]) -> Iterator[None]:
    """Set the given RLS settings for the block; restore the previous ones after."""
    previous = _read(list(values))
    _write(values)
    try:
        yield
    finally:
        try:
            _write(previous)
        except DatabaseError:
            # The block's transaction failed: inside an atomic block its
            # rollback reverts our setting too; outside one, a connection in
            # an unknown state is closed rather than kept with a stale user.
            if not connection.in_atomic_block:
                connection.close()


@contextmanager
def user_context(user_id: int) -> Iterator[None]:
    """Run the block's queries as ``user_id``: RLS shows them that user's rows only."""
    with settings_context({USER_SETTING: str(int(user_id)), SYSTEM_SETTING: ""}):
        yield


@contextmanager
def system_context() -> Iterator[None]:
    """Run the block's queries across all users (scheduling, admin): use sparingly."""
    with settings_context({SYSTEM_SETTING: "on"}):
        yield


@contextmanager
def no_user_context() -> Iterator[None]:
    """Neither a user nor the system: the block sees no user's rows (tests, anonymous work)."""
    with settings_context({USER_SETTING: "", SYSTEM_SETTING: ""}):
        yield


def current_user_id() -> int | None:
    """The user the connection acts for, or None outside any user_context."""
    value = _read([USER_SETTING])[USER_SETTING]
    return int(value) if value else None


def in_system_context() -> bool:
    return _read([SYSTEM_SETTING])[SYSTEM_SETTING] == "on"


def run_as_user(user_id: int, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``func(*args, **kwargs)`` inside ``user_context(user_id)``.

    For websocket consumers, whose database calls run in a worker thread with
    that thread's own connection: ``await database_sync_to_async(run_as_user)(
    self.scope["user"].pk, selector, ...)``.
    """
    with user_context(user_id):
        return func(*args, **kwargs)
