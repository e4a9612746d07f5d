"""manage.py migrate, run as the table owner.

Connections work as the unprivileged app role (apps/core/dbbackend); DDL
needs the owner. pytest-django creates its test database through this
command too. After the last migration, post_migrate puts every user-owned
table under row-level security (apps/privacy/rls.py).
"""

from django.core.management.commands.migrate import Command as MigrateCommand

from apps.core.db.context import system_context
from apps.core.db.roles import table_owner


class Command(MigrateCommand):
    def handle(self, *args, **options):
        # The system context too: a data migration must see every user's rows. A
        # superuser bypasses RLS anyway; an owner that is not one is subject to it
        # (FORCE ROW LEVEL SECURITY) and would otherwise see none.
        with table_owner(options["database"]), system_context():
            return super().handle(*args, **options)
