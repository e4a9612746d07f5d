"""The database roles a connection works as, and the switches between them.

Datapunk logs in as the database owner (DATABASE_URL) but works as the role
``datapunk_app`` (NOLOGIN, NOSUPERUSER, NOBYPASSRLS, not the owner of any
table): the database backend runs ``role_switch_sql()`` on every new
connection (apps/core/dbbackend). Migrations and ``flush`` run as the owner
(``table_owner()``): DDL needs it. The roles are created and granted, and the
policies they are held to are written, by apps/privacy/rls.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from apps.core.db.context import SYSTEM_SETTING, USER_SETTING

APP_ROLE = "datapunk_app"
# COPY FROM is refused on a table under RLS, whatever the policy says. The
# batch writer's binary COPY into the location hypertable therefore runs as
# this role: BYPASSRLS, but it may only INSERT into the tables in
# apps/privacy/rls.py's BULK_TABLES (no SELECT, UPDATE or DELETE anywhere),
# and the writer only takes it for rows of the user whose context the
# connection is in.
BULK_ROLE = "datapunk_bulk"


def role_switch_sql() -> str:
    """What a new connection runs to act as the app role (apps/core/dbbackend).

    Before the first migrate the role may not exist, or the owner may not be
    allowed to take it yet: the connection then stays the owner, and migrate
    creates the role and grants it. (A superuser owner bypasses RLS meanwhile;
    any other owner is held by FORCE ROW LEVEL SECURITY all the same.)
    """
    return (
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') "
        f"AND pg_has_role(current_user, '{APP_ROLE}', 'SET') "
        f"THEN SET ROLE {APP_ROLE}; END IF; END $$"
    )


def _current_role(connection: BaseDatabaseWrapper) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user::text, session_user::text")
        current, session = cursor.fetchone()
    return "" if current == session else current


def _set_role(connection: BaseDatabaseWrapper, role: str) -> None:
    with connection.cursor() as cursor:
        # The name comes from our constants or from current_user, never from input.
        cursor.execute(f"SET ROLE {role}" if role else "RESET ROLE")


@contextmanager
def table_owner(using: str = "default") -> Iterator[None]:
    """Run the block as the owner: for DDL and maintenance (migrate, flush), never for requests."""
    connection = connections[using]
    connection.ensure_connection()
    previous = _current_role(connection)
    _set_role(connection, "")
    try:
        yield
    finally:
        if connection.connection is not None and not connection.needs_rollback:
            _set_role(connection, previous)


class BulkRoleRefused(Exception):
    """The connection is not acting for the user whose rows a bulk COPY would write."""


@contextmanager
def bulk_role(cursor, *, user_id: int) -> Iterator[None]:
    """Switch ``cursor``'s connection to BULK_ROLE for one COPY of ``user_id``'s rows,
    and back to the previous role after.

    BULK_ROLE bypasses the policy, so the check the policy would make is made
    here: the connection must be in ``user_context(user_id)`` (or the system
    context). Use inside a transaction or savepoint: when the block fails,
    rolling that back restores the role (SET is transactional), so nothing is
    run here on an aborted transaction.
    """
    cursor.execute(
        "SELECT current_user::text, session_user::text, "
        "current_setting(%s, true), current_setting(%s, true)",
        [USER_SETTING, SYSTEM_SETTING],
    )
    current, session, acting_for, system = cursor.fetchone()
    if system != "on" and acting_for != str(int(user_id)):
        raise BulkRoleRefused(
            f"bulk write of user {user_id}'s rows outside user_context({user_id})"
        )
    cursor.execute(f"SET ROLE {BULK_ROLE}")
    yield
    cursor.execute("RESET ROLE" if current == session else f"SET ROLE {current}")
