"""python manage.py backup [--full]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.ops.formatting import human_bytes
from apps.ops.services import BackupError, backup_run

# pgBackRest's INFO lines worth showing without --verbose-log.
_SHOWN = ("backup start archive", "new backup label", "backup size")


class Command(BaseCommand):
    help = (
        "Back up the database now with pgBackRest (incremental unless --full; the first backup "
        "is always full), then copy the uploaded Takeout parts beside it."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="a full backup, not incremental")
        parser.add_argument(
            "--verbose-log", action="store_true", help="print every line pgBackRest writes"
        )

    def handle(self, *args, full: bool, verbose_log: bool, **options):
        kind = "full" if full else "incr"
        self.stdout.write(f"Starting {'a full' if full else 'an incremental'} backup...")
        bar = tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}]")

        def progress(percent: float | None, line: str) -> None:
            if percent is not None:
                bar.update(percent - bar.n)
            if verbose_log or " WARN: " in line or any(key in line for key in _SHOWN):
                bar.write(line)

        try:
            run = backup_run(kind=kind, progress=progress)
        except BackupError as exc:
            bar.close()
            raise CommandError(f"backup failed: {exc}") from None
        bar.update(100 - bar.n)
        bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup {run.label} ({run.kind}) done: database {human_bytes(run.size_bytes)}, "
                f"{human_bytes(run.repo_bytes)} added to the repository; "
                f"{run.uploads_files} uploaded part files ({human_bytes(run.uploads_bytes)}) "
                "copied beside it."
            )
        )
