"""manage.py flush, run as the table owner.

The app role may not TRUNCATE (the audit log is append-only for it); emptying
the whole database is an owner's operation (and the test runner's, between
transactional tests).
"""

from django.core.management.commands.flush import Command as FlushCommand

from apps.core.db.roles import table_owner


class Command(FlushCommand):
    def handle(self, **options):
        with table_owner(options["database"]):
            return super().handle(**options)
