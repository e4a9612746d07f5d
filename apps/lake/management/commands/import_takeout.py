"""python manage.py import_takeout PATH... --user NAME [--sync]"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO, cast

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from kombu.exceptions import OperationalError as BrokerError
from tqdm import tqdm

from apps.core.db.context import user_context
from apps.core.health import celery_workers_answering
from apps.core.retry import CONNECTION_ERRORS
from apps.lake.archive import ArchiveRejected
from apps.lake.models import Import
from apps.lake.selectors import import_summary_by_product
from apps.lake.services import (
    ImportProgress,
    TakeoutImportError,
    takeout_import_prepare,
    takeout_import_run,
)


class Command(BaseCommand):
    help = (
        "Import Google Takeout archive parts (.zip, .tgz), an extracted Takeout folder, or single "
        "exported files (Timeline.json, Records.json, .mbox, ...) for a user. Running it again on "
        "the same parts resumes an interrupted import; a finished one is re-read and adds nothing new."
    )

    # The import checks what it needs itself; the full system check costs seconds per run.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="archive parts, folders or files")
        parser.add_argument("--user", required=True, help="username the data belongs to")
        parser.add_argument(
            "--sync",
            action="store_true",
            help="run in the foreground instead of queueing a Celery task",
        )

    def handle(self, *args, paths: list[Path], user: str, sync: bool, **options):
        try:
            self._import(paths, user, sync)
        except CONNECTION_ERRORS as exc:
            raise CommandError(
                f"cannot reach the database: {str(exc).strip()}. Is PostgreSQL running? "
                "(the local one: bash scripts/postgres.sh start)"
            ) from None

    def _import(self, paths: list[Path], user: str, sync: bool) -> None:
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(
                f"no user named {user!r} (create one with manage.py createsuperuser)"
            )
        with user_context(owner.pk):  # row-level security: this user's rows only
            self._import_as(owner, paths, sync)

    def _import_as(self, owner, paths: list[Path], sync: bool) -> None:
        try:
            run = takeout_import_prepare(user=owner, paths=paths)
        except (ArchiveRejected, TakeoutImportError) as exc:
            raise CommandError(f"rejected: {exc}") from None
        if run.status == Import.Status.RUNNING or run.entries.exists():
            self.stdout.write(
                f"Resuming import {run.pk} ({run.members_done}/{run.members_total} members done)"
            )
        if not sync:
            self._queue(run)
            return
        finished = self._run_with_progress_bar(run)
        if finished is None:
            raise CommandError(f"import {run.pk} is being run by another process right now")
        self._print_summary(finished)
        if finished.status == Import.Status.FAILED:
            raise CommandError(
                f"import {finished.pk} failed, nothing of it was kept: {finished.error}"
            )

    def _queue(self, run: Import) -> None:
        from apps.lake.tasks import run_takeout_import

        try:
            result = run_takeout_import.delay(run.pk)
            workers = celery_workers_answering()
        except BrokerError as exc:
            raise CommandError(
                f"could not queue import {run.pk}: the Celery broker (Redis) does not answer "
                f"({exc}). Start it (bash scripts/redis.sh) or run the import here with --sync."
            ) from None
        Import.objects.filter(pk=run.pk).update(task_id=result.id)
        self.stdout.write(
            f"Queued import {run.pk}; watch it at /imports/{run.pk}/ or in the admin."
        )
        if not workers:
            self.stdout.write(
                self.style.WARNING(
                    "No Celery worker answered: the import starts when one runs "
                    "(celery -A datapunk worker, or bash scripts/demo.sh), or run it here with --sync."
                )
            )

    def _run_with_progress_bar(self, run: Import) -> Import | None:
        # tqdm redraws with "\r": give it the command's raw stream, not the wrapper
        # that appends a newline to every write (the stubs do not declare ``_out``).
        out = cast(TextIO, self.stderr._out)
        bar = tqdm(
            total=run.bytes_total,
            initial=run.bytes_done,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"import {run.pk}",
            file=out,
            dynamic_ncols=True,
        )

        def show(progress: ImportProgress) -> None:
            bar.update(max(0, progress.bytes_done - bar.n))
            bar.set_postfix(
                records=progress.records_written,
                dup=progress.records_duplicate,
                quarantined=progress.records_quarantined,
                refresh=False,
            )

        try:
            return takeout_import_run(import_id=run.pk, on_progress=show)
        except CONNECTION_ERRORS as exc:
            raise CommandError(
                f"import {run.pk} paused, the database connection failed: {exc}. Nothing committed is "
                "lost: run the same command again to resume."
            ) from None
        finally:
            bar.close()

    def _print_summary(self, run: Import) -> None:
        rows = import_summary_by_product(run)
        header = f"{'product':<28} {'status':<8} {'members':>7} {'written':>9} {'duplicate':>9} {'quarantined':>11}"
        self.stdout.write("")
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in rows:
            self.stdout.write(
                f"{row['product'] or '(not understood)':<28} {row['status']:<8} {row['members']:>7} "
                f"{row['written'] or 0:>9} {row['duplicate'] or 0:>9} {row['quarantined'] or 0:>11}"
            )
        self.stdout.write("-" * len(header))
        self.stdout.write(
            f"import {run.pk}: {run.status}; {run.records_written} records written, {run.records_duplicate} "
            f"already present, {run.records_quarantined} quarantined"
        )
        for entry in run.entries.filter(status="failed").order_by("path")[:20]:
            self.stdout.write(self.style.WARNING(f"  failed: {entry.path}: {entry.error}"))
        if run.status == Import.Status.DONE and all(row["status"] == "skipped" for row in rows):
            self.stdout.write(
                self.style.WARNING(
                    "Nothing in these files is something Datapunk reads (README.md, 'What is "
                    "read'); they are listed above as not understood."
                )
            )
