"""django-timescaledb's PostGIS backend, with a clear word on missing extensions.

Without this check a server lacking pgvector fails deep inside a migration
with "could not open extension control file"; here it fails first, naming
what is missing and how to get it.
"""

from django.core.exceptions import ImproperlyConfigured
from timescale.db.backends.postgis.base import DatabaseWrapper as TimescalePostgisWrapper

# extension name in PostgreSQL -> what provides it on Debian
REQUIRED_EXTENSIONS = {
    "postgis": "postgresql-17-postgis-3",
    "vector": "postgresql-17-pgvector",
    "timescaledb": "postgresql-17-timescaledb",
}


def missing_extensions(cursor) -> list[str]:
    cursor.execute(
        "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)",
        [list(REQUIRED_EXTENSIONS)],
    )
    available = {row[0] for row in cursor.fetchall()}
    return [name for name in REQUIRED_EXTENSIONS if name not in available]


class DatabaseWrapper(TimescalePostgisWrapper):
    def prepare_database(self):
        with self.cursor() as cursor:
            missing = missing_extensions(cursor)
        if missing:
            packages = ", ".join(REQUIRED_EXTENSIONS[name] for name in missing)
            raise ImproperlyConfigured(
                f"The PostgreSQL server at {self.settings_dict['HOST']}:{self.settings_dict['PORT']} "
                f"lacks the extension(s) {', '.join(missing)} (Debian packages: {packages}). "
                "Install them there, or unset DATABASE_URL and let scripts/postgres.sh run a "
                "server that has them."
            )
        super().prepare_database()

    def init_connection_state(self):
        super().init_connection_state()
        # Work as the unprivileged app role, never as the owner that logged in:
        # row-level security then applies to everything this connection does
        # (apps/privacy/rls.py; apps/core/db/roles.py). Migrations switch back with table_owner().
        # The maintenance connection (no database: create and drop the test
        # database) stays the owner.
        from django.db.backends.base.base import NO_DB_ALIAS  # noqa: PLC0415

        from apps.core.db.roles import role_switch_sql

        if self.connection is not None and self.alias != NO_DB_ALIAS:
            with self.connection.cursor() as cursor:
                cursor.execute(role_switch_sql())
            if not self.get_autocommit():
                self.connection.commit()
