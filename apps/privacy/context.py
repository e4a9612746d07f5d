"""Whose rows a database connection may touch (PostgreSQL row-level security).

Every user-owned table carries ``user_id``; its RLS policy compares that column
with the connection setting ``datapunk.user_id``. Requests, tasks, consumers and
commands enter ``user_context(user_id)`` before they read or write a user's rows;
work that spans users on purpose (a beat task choosing whom to sync, the admin)
enters ``system_context()``, which is explicit and easy to find in review.

The setting is session-level (``set_config(..., false)``) so it holds across the
transactions a block opens, and each block restores what was there before, so
blocks nest.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

USER_SETTING = "datapunk.user_id"
SYSTEM_SETTING = "datapunk.system"


def _swap(name: str, value: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [name])
        previous = cursor.fetchone()[0] or ""
        cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
    return previous


@contextmanager
def user_context(user_id: int) -> Iterator[None]:
    """Run the block's queries as ``user_id``: RLS shows them that user's rows only."""
    previous = _swap(USER_SETTING, str(int(user_id)))
    try:
        yield
    finally:
        _swap(USER_SETTING, previous)


@contextmanager
def system_context() -> Iterator[None]:
    """Run the block's queries across all users (scheduling, admin): use sparingly."""
    previous = _swap(SYSTEM_SETTING, "on")
    try:
        yield
    finally:
        _swap(SYSTEM_SETTING, previous)


def current_user_id() -> int | None:
    """The user the connection acts for, or None outside any user_context."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [USER_SETTING])
        value = cursor.fetchone()[0]
    return int(value) if value else None
