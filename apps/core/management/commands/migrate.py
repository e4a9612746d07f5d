"""manage.py migrate, run as the table owner.

Connections work as the unprivileged app role (apps/core/dbbackend); DDL
needs the owner. pytest-django creates its test database through this
command too. After the last migration, post_migrate puts every user-owned
table under row-level security (apps/privacy/rls.py).
"""

from django.core.management.commands.migrate import Command as MigrateCommand

from apps.privacy.rls import table_owner


class Command(MigrateCommand):
    def handle(self, *args, **options):
        with table_owner(options["database"]):
            return super().handle(*args, **options)
