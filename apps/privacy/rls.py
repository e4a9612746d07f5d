"""PostgreSQL row-level security on every user-owned table, applied generically.

Datapunk logs in as the database owner (DATABASE_URL) but works as the role
``datapunk_app`` (NOLOGIN, NOSUPERUSER, NOBYPASSRLS, not the owner of any
table): the database backend runs ``SET ROLE datapunk_app`` on every new
connection (apps/core/dbbackend, with the role helpers of apps/core/db/roles.py). Every table of the public schema that has a
``user_id`` column gets RLS enabled and forced, and one policy admitting the
rows whose ``user_id`` is the connection's ``datapunk.user_id`` setting, or
every row inside ``system_context()`` (apps/core/db/context.py). Tables are
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

from django.core.exceptions import ImproperlyConfigured
from django.db import ProgrammingError, connections, transaction

from apps.core.db.context import SYSTEM_SETTING, USER_SETTING
from apps.core.db.roles import APP_ROLE, BULK_ROLE, table_owner

# The bulk role (apps/core/db/roles.py) may only INSERT into these tables.
BULK_TABLES = ("lake_locationpoint", "lake_healthmetric")

POLICY = "datapunk_owner"

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
