"""Takeout imports: prepare (check and fingerprint the parts), then run.

The run is resumable: each archive member has an ImportEntry whose
checkpoint counts the parser records already committed, advanced in the same
transaction as the rows (see writer.py). Running the same import again, or
preparing the same parts again while an import of them is unfinished, picks
up where it stopped. A session advisory lock keeps two workers off the same
import; it dies with its connection, so a killed run never blocks a resume.
"""

from __future__ import annotations

import gc
import hashlib
import io
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypedDict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core import advisory_locks
from apps.core.feed import publish
from apps.core.jobs import job_run_once
from apps.core.retry import CONNECTION_ERRORS
from apps.lake.archive import ArchiveRejected, Member, MemberStream, Part
from apps.lake.models import Import, ImportEntry, Quarantine
from apps.lake.signals import import_finished
from apps.lake.takeout import registry
from apps.lake.takeout.records import MemberError, Parser
from apps.lake.writer import BatchWriter, FlushResult, rollback_entries

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Advisory lock namespace for imports (declared in apps/core/advisory_locks.py).
_LOCK_NAMESPACE = advisory_locks.IMPORT_RUN

# Seconds between progress reports: enough for a live view, and an archive of
# 50,000 photos does not become 50,000 websocket messages.
REPORT_INTERVAL = 0.5


class TakeoutImportError(Exception):
    """Something the user must fix before the import can run; the message says what."""


@dataclass
class ImportProgress:
    import_id: int
    status: str
    bytes_done: int
    bytes_total: int
    members_done: int
    members_total: int
    records_written: int
    records_duplicate: int
    records_quarantined: int
    current: str = ""
    error: str = ""

    @classmethod
    def of(cls, run: Import, current: str = "") -> ImportProgress:
        return cls(
            import_id=run.pk,
            status=run.status,
            bytes_done=run.bytes_done,
            bytes_total=run.bytes_total,
            members_done=run.members_done,
            members_total=run.members_total,
            records_written=run.records_written,
            records_duplicate=run.records_duplicate,
            records_quarantined=run.records_quarantined,
            current=current,
            error=run.error,
        )

    def as_dict(self) -> dict:
        return asdict(self)


ProgressCallback = Callable[[ImportProgress], None]


class PartDescription(TypedDict):
    """One part as Import.parts stores it."""

    path: str
    name: str
    kind: str
    size: int
    sha256: str


def _sha256_of(part: Part) -> str:
    digest = hashlib.sha256()
    if part.kind == "folder":
        # A folder has no bytes of its own: fingerprint what it holds.
        for member in part.inspect():
            digest.update(f"{member.path}\0{member.size}\0{member.modified.isoformat()}\n".encode())
        return digest.hexdigest()
    with open(part.path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def takeout_import_prepare(
    *, user: User, paths: list[Path], known_sha256: Mapping[Path, str] | None = None
) -> Import:
    """Check the parts and return the Import to run: an unfinished one of the same parts, or a new one.

    ``known_sha256`` gives verified checksums by resolved path (uploads): those
    parts are not read again to hash them. Idempotent. Raises ArchiveRejected
    (unsafe or unreadable part) before anything is stored.
    """
    known_sha256 = known_sha256 or {}
    if not paths:
        raise TakeoutImportError("no archive given")
    parts = [Part(Path(path).expanduser().resolve()) for path in paths]
    descriptions: list[PartDescription] = []
    bytes_total = members_total = 0
    for part in parts:
        members = part.inspect()
        if not members:
            raise TakeoutImportError(f"{part.name}: there are no files in it")
        bytes_total += sum(member.size for member in members)
        members_total += len(members)
        size = part.path.stat().st_size if part.kind != "folder" else sum(m.size for m in members)
        descriptions.append(
            {
                "path": str(part.path),
                "name": part.name,
                "kind": part.kind,
                "size": size,
                "sha256": known_sha256.get(part.path) or _sha256_of(part),
            }
        )
    fingerprint = hashlib.sha256("".join(d["sha256"] for d in descriptions).encode()).hexdigest()
    unfinished = (
        Import.objects.filter(
            user=user,
            fingerprint=fingerprint,
            status__in=[Import.Status.PENDING, Import.Status.RUNNING],
        )
        .order_by("created_at")
        .first()
    )
    if unfinished is not None:
        # Same bytes, maybe at a new place (moved download folder): read them from there.
        Import.objects.filter(pk=unfinished.pk).update(parts=descriptions)
        unfinished.refresh_from_db()
        return unfinished
    return Import.objects.create(
        user=user,
        parts=descriptions,
        fingerprint=fingerprint,
        bytes_total=bytes_total,
        members_total=members_total,
    )


def takeout_import_run(
    *, import_id: int, on_progress: ProgressCallback | None = None
) -> Import | None:
    """Run (or resume) an import to the end. Idempotent: a finished import is returned as it is.

    Locks: a session advisory lock on the import; returns None when another
    process holds it (that one is running this import).
    """
    return job_run_once(
        Import,
        import_id,
        lock=_LOCK_NAMESPACE,
        work=lambda run: _ImportRun(run, on_progress).execute(),
    )


# The collector's young generation at its default (a pass every 700 allocations) cost
# about 15 % of a Fit import's CPU: records are acyclic, short-lived, and the batch keeps
# up to 50,000 of them alive, which every older-generation pass walks again.
_IMPORT_GC_THRESHOLD = (100_000, 50, 100)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Rarer garbage-collector passes while a member is read (process-wide, restored after;
    a worker runs one import at a time)."""
    before = gc.get_threshold()
    gc.set_threshold(*_IMPORT_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _ImportRun:
    """One pass over an import's parts; state lives on the rows, not here."""

    def __init__(self, run: Import, on_progress: ProgressCallback | None):
        self.run = run
        self.on_progress = on_progress or (lambda progress: None)
        self.done_bytes_before_member = 0
        self._last_report = 0.0

    def execute(self) -> Import:
        run = self.run
        run.start(keep_first_start=True)
        run.refresh_from_db()
        finished = run.entries.exclude(
            status__in=[ImportEntry.Status.PENDING, ImportEntry.Status.RUNNING]
        )
        self.done_bytes_before_member = sum(finished.values_list("size", flat=True))
        self._report(final=True)
        try:
            for index, description in enumerate(run.parts):
                self._import_part(index, Part(Path(description["path"])))
        except ArchiveRejected as exc:
            return self._reject(str(exc))
        except FileNotFoundError as exc:
            # The name only: the error is shown to the user, the server's folders are not.
            return self._reject(f"archive part missing: {Path(exc.filename or '').name}")
        run.finish(bytes_done=run.bytes_total)
        self._report(final=True)
        import_finished.send(sender=Import, user_id=run.user_id, import_id=run.pk)
        return run

    def _reject(self, message: str) -> Import:
        """The archive set is unsafe or broken: keep nothing of it."""
        entry_ids = list(self.run.entries.values_list("pk", flat=True))
        rollback_entries(entry_ids)
        ImportEntry.objects.filter(pk__in=entry_ids).exclude(
            status=ImportEntry.Status.SKIPPED
        ).update(
            status=ImportEntry.Status.FAILED,
            records_written=0,
            records_duplicate=0,
            records_quarantined=0,
        )
        self.run.fail(
            message,
            records_written=0,
            records_duplicate=0,
            records_quarantined=0,
        )
        self._report(final=True)
        return self.run

    def _report(self, current: str = "", *, final: bool = False) -> None:
        """Tell the user's live feed, and the caller (CLI progress bar), at most
        every REPORT_INTERVAL unless ``final``; refreshes ``self.run``."""
        now = time.monotonic()
        if not final and now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report = now
        self.run.refresh_from_db()
        progress = ImportProgress.of(self.run, current)
        finished = progress.status in (Import.Status.DONE, Import.Status.FAILED)
        publish(
            self.run.user_id,
            {
                "type": "import.finished" if finished else "import.progress",
                "data": progress.as_dict(),
            },
        )
        self.on_progress(progress)

    def _import_part(self, index: int, part: Part) -> None:
        members = part.inspect()
        paths = {member.path for member in members}
        entries = {
            entry.path: entry
            for entry in ImportEntry.objects.filter(import_run=self.run, part=index)
        }
        with part.reader() as reader:
            for member in members:
                entry = entries.get(str(member.path))
                if entry is not None and entry.status in (
                    ImportEntry.Status.DONE,
                    ImportEntry.Status.SKIPPED,
                    ImportEntry.Status.FAILED,
                ):
                    continue  # finished in an earlier run
                with reader.open(member) as raw:
                    # typeshed's reader protocol also asks for seek/tell/flush, which a
                    # forward-only member stream has not; BufferedReader reads without them.
                    stream = io.BufferedReader(raw, buffer_size=1 << 16)  # type: ignore[type-var]
                    # Skipped on purpose (a reason to show) before any sniffer sees it.
                    reason = registry.skip_reason(member.path)
                    parser = (
                        None
                        if reason
                        else registry.parser_for(
                            member.path, stream.peek(registry.SNIFF_BYTES)[: registry.SNIFF_BYTES]
                        )
                    )
                    if entry is None:
                        entry, _ = ImportEntry.objects.get_or_create(
                            import_run=self.run,
                            part=index,
                            path=str(member.path),
                            defaults={
                                "user_id": self.run.user_id,
                                "size": member.size,
                                "product": parser.product if parser else "",
                            },
                        )
                    if parser is None:
                        if reason:
                            ImportEntry.objects.filter(pk=entry.pk).update(error=reason)
                        self._finish_entry(entry, ImportEntry.Status.SKIPPED, member)
                        continue
                    twin = registry.json_twin_read_instead(member.path, parser, paths)
                    if twin is not None:
                        ImportEntry.objects.filter(pk=entry.pk).update(
                            error=f"the same items are read from {twin.name} beside it"
                        )
                        self._finish_entry(entry, ImportEntry.Status.SKIPPED, member)
                        continue
                    self._import_member(entry, parser, member, stream, raw)

    def _import_member(
        self,
        entry: ImportEntry,
        parser: Parser,
        member: Member,
        stream: BinaryIO,
        raw: MemberStream,
    ) -> None:
        ImportEntry.objects.filter(pk=entry.pk).update(
            status=ImportEntry.Status.RUNNING, started_at=timezone.now()
        )
        writer = BatchWriter(user_id=self.run.user_id, source="takeout", entry_id=entry.pk)
        skip = entry.checkpoint
        seen = 0

        def commit(result: FlushResult) -> None:
            ImportEntry.objects.filter(pk=entry.pk).update(
                checkpoint=seen,
                records_written=F("records_written") + result.written,
                records_duplicate=F("records_duplicate") + result.duplicate,
                records_quarantined=F("records_quarantined") + result.quarantined,
            )
            Import.objects.filter(pk=self.run.pk).update(
                records_written=F("records_written") + result.written,
                records_duplicate=F("records_duplicate") + result.duplicate,
                records_quarantined=F("records_quarantined") + result.quarantined,
                bytes_done=self.done_bytes_before_member + min(raw.bytes_read, member.size),
            )

        try:
            with writer, _fewer_collections():
                for record in parser.parse(stream, member.path):
                    seen += 1
                    if seen <= skip:
                        continue  # committed by an earlier, interrupted run
                    if writer.add(record):  # the batch is full
                        writer.flush(commit)
                        self._report(str(member.path))
                writer.flush(commit)
        except MemberError as exc:
            self._fail_member(entry, member, str(exc))
            return
        except ArchiveRejected:
            raise  # the whole import stops
        except CONNECTION_ERRORS:
            raise  # the import pauses (resumable)
        except Exception as exc:  # a parser bug or unstorable data sinks one member, not the import
            logger.exception("%s failed on %s", parser.product, member.path)
            self._fail_member(
                entry,
                member,
                f"could not be imported ({type(exc).__name__}: {exc}); please report this",
            )
            return
        self._finish_entry(entry, ImportEntry.Status.DONE, member)

    def _fail_member(self, entry: ImportEntry, member: Member, reason: str) -> None:
        """The member is unreadable as a whole: roll back its rows, quarantine it with the reason."""
        with transaction.atomic():
            entry.refresh_from_db()
            rollback_entries([entry.pk])
            Import.objects.filter(pk=self.run.pk).update(
                records_written=F("records_written") - entry.records_written,
                records_duplicate=F("records_duplicate") - entry.records_duplicate,
                records_quarantined=F("records_quarantined") - entry.records_quarantined + 1,
            )
            Quarantine.objects.create(
                user_id=self.run.user_id,
                entry=entry,
                reason=f"{member.path}: {reason}",
                excerpt=str(member.path),
            )
            ImportEntry.objects.filter(pk=entry.pk).update(
                records_written=0,
                records_duplicate=0,
                records_quarantined=1,
                checkpoint=0,
                error=reason,
            )
            self._finish_entry(entry, ImportEntry.Status.FAILED, member, report=False)
        # After the commit: the feed must not announce what a rollback could still undo.
        self._report(str(member.path))

    def _finish_entry(
        self, entry: ImportEntry, status: str, member: Member, *, report: bool = True
    ) -> None:
        ImportEntry.objects.filter(pk=entry.pk).update(status=status, finished_at=timezone.now())
        self.done_bytes_before_member += member.size
        Import.objects.filter(pk=self.run.pk).update(
            members_done=F("members_done") + 1, bytes_done=self.done_bytes_before_member
        )
        if report:
            self._report(str(member.path))
