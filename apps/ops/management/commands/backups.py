"""python manage.py backups"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from apps.ops.formatting import human_age, human_bytes
from apps.ops.pgbackrest import PgBackRestError
from apps.ops.selectors import archiving_failure, backup_list


class Command(BaseCommand):
    help = (
        "List the backups in the pgBackRest repository, with age and whether each can be restored."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args, **options):
        try:
            backups = backup_list()
        except PgBackRestError as exc:
            raise CommandError(f"cannot read the backup repository: {exc}") from None
        if not backups:
            self.stdout.write("No backups yet: run manage.py backup.")
        else:
            header = f"{'label':<36} {'type':<5} {'finished (UTC)':<17} {'age':>9} {'size':>10} {'in repo':>10}  restorable"
            self.stdout.write(header)
            for backup in reversed(backups):
                restorable = "yes" if backup.restorable else f"NO: {backup.why_not}"
                self.stdout.write(
                    f"{backup.label:<36} {backup.kind:<5} {backup.finished_at:%Y-%m-%d %H:%M} "
                    f"{human_age(backup.age_seconds):>9} {human_bytes(backup.size_bytes):>10} "
                    f"{human_bytes(backup.repo_bytes):>10}  {restorable}"
                )
        try:
            failure = archiving_failure()
        except Exception as exc:
            failure = f"cannot read pg_stat_archiver: {exc}"
        if failure:
            self.stdout.write(self.style.WARNING(failure))
        else:
            self.stdout.write("WAL archiving: working (point-in-time recovery between backups).")
