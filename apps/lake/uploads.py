"""Resumable chunked uploads of archive parts.

A client announces a file (name, size, sha256), sends it in chunks, each
saying at which offset it starts; after a dropped connection it asks how many
bytes arrived and goes on from there. The checksum is verified before the
part can be imported. Writes lock the Upload row, so two chunks racing for
the same offset cannot both land.

A part may have 50 GB: no request reads it whole. Each chunk feeds a running
sha256 kept in this process (hashlib's state cannot be stored in the row), so
completing compares two digests. When the chunks came through several server
processes, or one restarted in between, that digest is lost; completing then
hands the file to a worker (``run_upload_verify``), which hashes it outside
any row lock, and the client polls the upload until it is complete.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.db import transaction

from apps.core.db.context import system_context
from apps.core.serializers import shortened
from apps.lake.models import Import, Upload
from apps.lake.services import takeout_import_prepare

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class UploadError(Exception):
    """A request the upload cannot accept; the message is for the client."""


class UploadGone(UploadError):
    """The upload was deleted meanwhile (by a request that won the race)."""


class UploadsNotReady(UploadError):
    """Some uploads named for an import are not the user's, or not complete."""


class UploadTooLarge(UploadError):
    """Over the part size limit or the user's quota (HTTP 413)."""


class InsufficientStorage(UploadError):
    """The server's disk cannot take it without eating its reserve (HTTP 507)."""


class OffsetMismatch(UploadError):
    def __init__(self, received: int):
        super().__init__(
            f"this upload has {received} bytes; send the chunk starting at offset {received}"
        )
        self.received = received


class _RunningDigests:
    """The sha256 of each upload's received prefix, in this process.

    An entry is valid only for the offset it was stored with: a chunk at
    another offset (another process wrote in between, or the chunk that
    stored it was rolled back) finds none. Bounded, as
    abandoned uploads never complete; an evicted one falls back to the worker.
    """

    LIMIT = 1_000  # a hash object is a few hundred bytes

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._digests: OrderedDict[int, tuple[int, hashlib._Hash]] = OrderedDict()

    def resume(self, upload_id: int, offset: int) -> hashlib._Hash | None:
        """A copy of the digest of the first ``offset`` bytes, or None when not known."""
        if offset == 0:
            return hashlib.sha256()
        with self._lock:
            kept = self._digests.get(upload_id)
            if kept is None or kept[0] != offset:
                return None
            return kept[1].copy()

    def keep(self, upload_id: int, offset: int, digest: hashlib._Hash) -> None:
        with self._lock:
            self._digests[upload_id] = (offset, digest)
            self._digests.move_to_end(upload_id)
            while len(self._digests) > self.LIMIT:
                self._digests.popitem(last=False)

    def forget(self, upload_id: int) -> None:
        with self._lock:
            self._digests.pop(upload_id, None)

    def clear(self) -> None:
        with self._lock:
            self._digests.clear()


running_digests = _RunningDigests()


def upload_path(upload: Upload) -> Path:
    # One folder per upload keeps the user's own file name for the import's display.
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", upload.filename)[-100:] or "part"
    return Path(settings.UPLOAD_DIR) / str(upload.user_id) / str(upload.pk) / safe


def _free_bytes() -> int:
    """Free bytes on the upload disk beyond the reserve (may be negative)."""
    folder = Path(settings.UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(folder).free - settings.DATAPUNK_DISK_RESERVE_BYTES


def upload_quota_bytes() -> int:
    """What one user's kept uploads may add up to: DATAPUNK_UPLOAD_QUOTA_BYTES, or
    when it is 0 (the default) the upload disk's size less the reserve, so that
    the quota never promises more than the disk has. Either way the free-space
    check (parts under way + this part <= free - reserve) has the last word."""
    configured = settings.DATAPUNK_UPLOAD_QUOTA_BYTES
    if configured > 0:
        return configured
    folder = Path(settings.UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return max(shutil.disk_usage(folder).total - settings.DATAPUNK_DISK_RESERVE_BYTES, 0)


def _check_room(*, user: User, size: int) -> None:
    """Refuse an announced part that is over the limits or cannot fit on the disk."""
    if size > settings.DATAPUNK_MAX_PART_BYTES:
        raise UploadTooLarge(
            f"a part may have at most {settings.DATAPUNK_MAX_PART_BYTES} bytes "
            "(DATAPUNK_MAX_PART_BYTES); Takeout can split an export into smaller parts"
        )
    # Every upload still on disk counts, whatever its state: it holds its space.
    used = sum(Upload.objects.filter(user=user).values_list("size", flat=True))
    quota = upload_quota_bytes()
    if used + size > quota:
        raise UploadTooLarge(
            f"your uploads would take {used + size} bytes; your quota is {quota} bytes "
            f"({max(quota - used, 0)} left). Delete finished uploads to make room"
        )
    # Parts announced but not yet received (any user's) have a claim on the disk
    # too: two 60 GB parts were both accepted with 77 GB free.
    free = _free_bytes() - _bytes_still_to_come()
    if size > free:
        raise InsufficientStorage(
            f"the server has room for {max(free, 0)} more bytes of uploads "
            f"(keeping {settings.DATAPUNK_DISK_RESERVE_BYTES} bytes free and room for the "
            f"uploads under way); this part needs {size}"
        )


def _bytes_still_to_come() -> int:
    """Bytes announced by every user's receiving uploads and not yet written."""
    from django.db.models import F, Sum

    with system_context():  # across users on purpose: they share one disk
        pending = Upload.objects.filter(status=Upload.Status.RECEIVING).aggregate(
            rest=Sum(F("size") - F("received"))
        )["rest"]
    return int(pending or 0)


def upload_create(*, user: User, filename: str, size: int, sha256: str) -> Upload:
    if size < 1:
        raise UploadError("size must be at least 1 byte")
    _check_room(user=user, size=size)
    if not re.fullmatch(r"[0-9a-f]{64}", sha256.lower()):
        raise UploadError("sha256 must be 64 hexadecimal characters")
    name = Path(filename.replace("\\", "/")).name
    if name.strip(". ") == "":
        raise UploadError(f"filename must name a file, not {filename!r}")
    upload = Upload.objects.create(user=user, filename=name, size=size, sha256=sha256.lower())
    path = upload_path(upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return upload


def upload_append(
    *, upload_id: int, offset: int, body: BinaryIO, length: int | None = None
) -> Upload:
    """Append a chunk that starts at ``offset``. Idempotent for a repeated chunk at the current end.

    ``length`` is the chunk's announced size (Content-Length), checked against
    the chunk limit and the free disk before a byte is written.
    """
    limit = settings.DATAPUNK_MAX_CHUNK_BYTES
    if length is not None:
        if length > limit:
            raise UploadTooLarge(f"a chunk may have at most {limit} bytes")
        free = _free_bytes()
        if length > free:
            raise InsufficientStorage(
                f"the server has room for {max(free, 0)} more bytes of uploads "
                f"(keeping {settings.DATAPUNK_DISK_RESERVE_BYTES} bytes free)"
            )
    with transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload_id)
        if upload.status != Upload.Status.RECEIVING:
            raise UploadError(f"this upload is {upload.status}; it takes no more data")
        if offset != upload.received:
            raise OffsetMismatch(upload.received)
        path = upload_path(upload)
        digest = running_digests.resume(upload.pk, offset)
        with open(path, "r+b") as handle:
            handle.seek(offset)
            handle.truncate()  # bytes past ``received`` are from a chunk that never committed
            written = 0
            while chunk := body.read(1 << 20):
                written += len(chunk)
                if offset + written > upload.size:
                    raise UploadError(f"more data than the announced {upload.size} bytes")
                if written > limit:
                    raise UploadTooLarge(f"a chunk may have at most {limit} bytes")
                handle.write(chunk)
                if digest is not None:
                    digest.update(chunk)
        upload.received = offset + written
        upload.received_sha256 = (
            digest.hexdigest() if digest is not None and upload.received == upload.size else ""
        )
        upload.save(update_fields=["received", "received_sha256"])
    # Kept once the block has committed. Inside an outer transaction that rolls
    # back later, the entry names an offset the row no longer has: the next
    # chunk finds no digest (and drops this one), so the worker hashes the file.
    if digest is None:
        running_digests.forget(upload.pk)
    else:
        running_digests.keep(upload.pk, upload.received, digest)
    return upload


def upload_complete(*, upload_id: int) -> Upload:
    """Verify size and checksum; the request reads none of the file.

    With the digest kept while receiving, decided at once: complete, or a
    mismatch that discards the data (UploadError) so the client sends it again.
    Without it, the upload becomes VERIFYING: the caller queues
    ``run_upload_verify`` (again on a repeated call, in case the broker was
    down), and the client polls until it is complete (or receiving again, with
    ``problem`` saying why). Idempotent. Locks the Upload row briefly.
    """
    with transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload_id)
        if upload.status in (Upload.Status.COMPLETE, Upload.Status.VERIFYING):
            return upload
        if upload.received != upload.size:
            raise UploadError(f"only {upload.received} of {upload.size} bytes have arrived")
        if not upload.received_sha256:
            upload.status = Upload.Status.VERIFYING
            upload.problem = ""
            upload.save(update_fields=["status", "problem"])
            return upload
        problem = _settle(upload, upload.received_sha256)
    if problem:
        raise UploadError(problem)
    return upload


def upload_verify(*, upload_id: int) -> Upload | None:
    """Hash a VERIFYING upload's file and settle it (the worker's half of upload_complete).

    Idempotent: an upload gone, or not VERIFYING, is left as it is. Reads the
    file without a lock (no chunk is accepted while verifying); locks the row
    only to record the outcome.
    """
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None or upload.status != Upload.Status.VERIFYING:
        return upload
    digest = hashlib.sha256()
    try:
        with open(upload_path(upload), "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError:
        return None  # deleted meanwhile; the row goes with it
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(pk=upload_id).first()
        if upload is None or upload.status != Upload.Status.VERIFYING:
            return upload
        _settle(upload, digest.hexdigest())
    return upload


def _settle(upload: Upload, received_sha256: str) -> str:
    """Mark a locked upload complete when the digests match; otherwise discard its
    data (committed with the caller's block, so the discard outlives the error)
    and return what the client is told."""
    running_digests.forget(upload.pk)
    if received_sha256 == upload.sha256:
        upload.status = Upload.Status.COMPLETE
        upload.received_sha256 = received_sha256
        upload.problem = ""
        upload.save(update_fields=["status", "received_sha256", "problem"])
        return ""
    upload_path(upload).write_bytes(b"")
    upload.status = Upload.Status.RECEIVING
    upload.received = 0
    upload.received_sha256 = ""
    upload.problem = (
        f"checksum mismatch: received data has sha256 {received_sha256}, expected {upload.sha256}; "
        "the data was discarded, upload it again from offset 0"
    )
    upload.save(update_fields=["status", "received", "received_sha256", "problem"])
    return upload.problem


def upload_delete(*, upload_id: int) -> None:
    """Delete an uploaded part and its file, unless an unfinished import still reads it.

    The import's own record (counts, entries, quarantine) stays. Locks the Upload row.
    """
    with transaction.atomic():
        upload = Upload.objects.select_for_update().filter(pk=upload_id).first()
        if upload is None:
            raise UploadGone("this upload was deleted meanwhile")
        path = upload_path(upload)
        reader = _unfinished_imports_reading(path).values_list("pk", flat=True).first()
        if reader is not None:
            raise UploadError(
                f"import {reader} still reads this upload; delete it once that import has finished"
            )
        upload.delete()
    running_digests.forget(upload_id)
    shutil.rmtree(path.parent, ignore_errors=True)


def import_from_uploads(*, user: User, upload_ids: list[int]) -> Import:
    """Prepare the import of completed uploads (takeout_import_prepare) and tie them to it.

    Locks the Upload rows (ordered by pk, as upload_delete locks its one row)
    until the import is committed: a deletion waits and then finds the import
    reading the upload, or went first and the import finds the upload gone.
    Raises UploadsNotReady, ArchiveRejected or TakeoutImportError.
    """
    with transaction.atomic():
        uploads = {
            upload.pk: upload
            for upload in Upload.objects.select_for_update()
            .filter(user=user, pk__in=upload_ids)
            .order_by("pk")
        }
        missing = [i for i in upload_ids if i not in uploads]
        if missing:
            raise UploadsNotReady(f"no such uploads of yours: {shortened(missing)}")
        unfinished = [i for i in upload_ids if uploads[i].status != Upload.Status.COMPLETE]
        if unfinished:
            raise UploadsNotReady(
                f"not completed (checksum not verified yet): {shortened(unfinished)}"
            )
        # Their checksums are verified: the parts are not read again to hash them.
        run = takeout_import_prepare(
            user=user,
            paths=[upload_path(uploads[i]) for i in upload_ids],
            known_sha256={upload_path(u).resolve(): u.sha256 for u in uploads.values()},
        )
        Upload.objects.filter(pk__in=upload_ids).update(import_run=run)
    return run


def _unfinished_imports_reading(path: Path):
    # Import.parts records every part an import reads: an upload may be part of several.
    return Import.objects.filter(
        status__in=[Import.Status.PENDING, Import.Status.RUNNING],
        parts__contains=[{"path": str(path.resolve())}],
    ).order_by("pk")
