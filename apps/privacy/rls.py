"""PostgreSQL row-level security on every user-owned table, applied generically.

Datapunk logs in as the database owner (DATABASE_URL) but works as the role
``datapunk_app`` (NOLOGIN, NOSUPERUSER, NOBYPASSRLS, not the owner of any
table): the database backend runs ``SET ROLE datapunk_app`` on every new
connection (apps/core/dbbackend). Every table of the public schema that has a
``user_id`` column gets RLS enabled and forced, and one policy admitting the
rows whose ``user_id`` is the connection's ``datapunk.user_id`` setting, or
every row inside ``system_context()`` (apps/privacy/context.py). Tables are
found in the catalog after each ``migrate`` (post_migrate, see apps.py), so a
table another app adds is born isolated without that app doing anything.

What it protects against: a query that forgets its ``user`` filter (ORM,
raw SQL, a selector used from the wrong place) returns only the current user's
rows, and an INSERT/UPDATE that would put a row under another user fails.
What it does not: code that enters ``system_context()`` or switches role on
purpose (the admin, schedulers, the bulk COPY below), SQL injection (the
session user may ``RESET ROLE``), views and continuous aggregates (they run
with their owner's rights), TimescaleDB chunk tables addressed by name, and
the account tables listed in ``EXEMPT_TABLES``.

Migrations and ``flush`` run as the owner (``table_owner()``): DDL needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from django.db import ProgrammingError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

APP_ROLE = "datapunk_app"
# COPY FROM is refused on a table under RLS, whatever the policy says. The
# batch writer's binary COPY into the location and health-metric hypertables runs as
# this role: BYPASSRLS, but it may only INSERT into the tables in
# BULK_TABLES (no SELECT, UPDATE or DELETE anywhere), and the writer only
# takes it for rows of the user whose context the connection is in.
BULK_ROLE = "datapunk_bulk"
BULK_TABLES = ("lake_locationpoint", "lake_healthmetric")

POLICY = "datapunk_owner"
USER_SETTING = "datapunk.user_id"
SYSTEM_SETTING = "datapunk.system"

# Account machinery that must be read before anyone is signed in (a token by
# its key, an address by its e-mail, a social login by its uid, permissions,
# the admin's own history of who edited what). They describe the account, not
# the data in it; auth_user itself has no user_id column and is not covered.
EXEMPT_TABLES = frozenset(
    {
        "authtoken_token",
        "account_emailaddress",
        "socialaccount_socialaccount",
        "auth_user_groups",
        "auth_user_user_permissions",
        "django_admin_log",
    }
)

# Written by everyone, readable by the user it is about, never changed or
# removed by the app role: no UPDATE/DELETE/TRUNCATE grant and no policy for them.
APPEND_ONLY_TABLES = frozenset({"privacy_auditentry"})

_OWN_ROW = (
    f"current_setting('{SYSTEM_SETTING}', true) = 'on' OR "
    f"user_id = NULLIF(current_setting('{USER_SETTING}', true), '')::bigint"
)


def _create_role_sql(name: str, options: str) -> str:
    # Roles are cluster-wide and several databases (tests, other checkouts) may
    # create this one at the same moment: both "already exists" errors are fine.
    return f"""
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
            CREATE ROLE {name} {options};
        END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$;
    """


def user_owned_tables(cursor) -> list[str]:
    """Every ordinary or partitioned table of the public schema with a user_id column."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """
    )
    return [name for (name,) in cursor.fetchall() if name not in EXEMPT_TABLES]


def isolated_tables(cursor) -> list[str]:
    """Tables that are under the owner policy now (for tests and the README's claims)."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relrowsecurity AND c.relforcerowsecurity
        ORDER BY c.relname
        """
    )
    return [name for (name,) in cursor.fetchall()]


def rls_apply(using: str = "default") -> list[str]:
    """Create the roles, grant, and put every user-owned table under its policy.

    Idempotent and cheap; runs after every migrate. Must run as the owner (or a
    superuser). Returns the tables it covered.
    """
    connection = connections[using]
    with table_owner(using), connection.cursor() as cursor:
        cursor.execute(_create_role_sql(APP_ROLE, "NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT"))
        cursor.execute(_create_role_sql(BULK_ROLE, "NOLOGIN NOSUPERUSER BYPASSRLS NOINHERIT"))
        # A non-superuser owner needs membership to SET ROLE (a superuser has it implicitly).
        for role in (APP_ROLE, BULK_ROLE):
            cursor.execute("SELECT pg_has_role(current_user, %s, 'SET')", [role])
            if not cursor.fetchone()[0]:
                _grant_to_owner(connection, cursor, role)
        cursor.execute(
            f"""
            GRANT USAGE ON SCHEMA public TO {APP_ROLE}, {BULK_ROLE};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}, {BULK_ROLE};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public
                GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public
                GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {APP_ROLE}, {BULK_ROLE};
            """
        )
        for table in BULK_TABLES:
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is not None:
                cursor.execute(f"GRANT INSERT ON {table} TO {BULK_ROLE}")
        tables = user_owned_tables(cursor)
        for table in tables:
            _isolate(cursor, table)
    return tables


def _grant_to_owner(connection, cursor, role: str) -> None:
    try:
        with transaction.atomic(using=connection.alias):
            cursor.execute(f"GRANT {role} TO current_user WITH SET TRUE, INHERIT FALSE")
    except ProgrammingError:
        cursor.execute("SELECT current_user::text")
        owner = cursor.fetchone()[0]
        raise ImproperlyConfigured(
            f"The database owner {owner} may not switch to the role {role}, which someone else "
            f"created. As a superuser run: GRANT {APP_ROLE}, {BULK_ROLE} TO {owner} WITH SET TRUE;"
        ) from None


def _isolate(cursor, table: str) -> None:
    cursor.execute(
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; "
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;"
    )
    cursor.execute(
        "SELECT policyname FROM pg_policies WHERE schemaname = 'public' AND tablename = %s",
        [table],
    )
    existing = {name for (name,) in cursor.fetchall()}
    if table in APPEND_ONLY_TABLES:
        cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")
        if f"{POLICY}_read" not in existing:
            cursor.execute(f"CREATE POLICY {POLICY}_read ON {table} FOR SELECT USING ({_OWN_ROW})")
        if f"{POLICY}_append" not in existing:
            # Anyone may append (a failed login has no user context yet).
            cursor.execute(f"CREATE POLICY {POLICY}_append ON {table} FOR INSERT WITH CHECK (true)")
        return
    if POLICY not in existing:
        cursor.execute(
            f"CREATE POLICY {POLICY} ON {table} USING ({_OWN_ROW}) WITH CHECK ({_OWN_ROW})"
        )


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
