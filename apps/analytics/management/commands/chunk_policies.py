from django.core.management.base import BaseCommand

from apps.analytics.policies import chunk_policies_apply
from apps.core.db.context import system_context


class Command(BaseCommand):
    help = "Apply DATAPUNK_COMPRESS_AFTER_DAYS and DATAPUNK_RETENTION_DAYS to the lake's chunks."

    def handle(self, *args, **options):
        with system_context():
            said = chunk_policies_apply()
        for line in said or ["no compression or retention configured: every chunk is kept as is"]:
            self.stdout.write(line)
