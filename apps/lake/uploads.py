"""Resumable chunked uploads of archive parts.

A client announces a file (name, size, sha256), sends it in chunks, each
saying at which offset it starts; after a dropped connection it asks how many
bytes arrived and goes on from there. The checksum is verified before the
part can be imported. Writes lock the Upload row, so two chunks racing for
the same offset cannot both land.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from django.conf import settings
from django.db import transaction

from apps.core.serializers import shortened
from apps.lake.models import Import, Upload
from apps.lake.services import takeout_import_prepare
from apps.privacy.context import system_context

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
            raise UploadError("this upload is complete; it takes no more data")
        if offset != upload.received:
            raise OffsetMismatch(upload.received)
        path = upload_path(upload)
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
        upload.received = offset + written
        upload.save(update_fields=["received"])
    return upload


def upload_complete(*, upload_id: int) -> Upload:
    """Verify size and checksum. A mismatch discards the data so the client can send it again."""
    with transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload_id)
        if upload.status == Upload.Status.COMPLETE:
            return upload
        if upload.received != upload.size:
            raise UploadError(f"only {upload.received} of {upload.size} bytes have arrived")
        digest = hashlib.sha256()
        path = upload_path(upload)
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() == upload.sha256:
            upload.status = Upload.Status.COMPLETE
            upload.save(update_fields=["status"])
            return upload
        # Committed before raising: the discard must outlive the error.
        path.write_bytes(b"")
        upload.received = 0
        upload.save(update_fields=["received"])
    raise UploadError(
        f"checksum mismatch: received data has sha256 {digest.hexdigest()}, expected {upload.sha256}; "
        "the data was discarded, upload it again from offset 0"
    )


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
        run = takeout_import_prepare(user=user, paths=[upload_path(uploads[i]) for i in upload_ids])
        Upload.objects.filter(pk__in=upload_ids).update(import_run=run)
    return run


def _unfinished_imports_reading(path: Path):
    # Import.parts records every part an import reads: an upload may be part of several.
    return Import.objects.filter(
        status__in=[Import.Status.PENDING, Import.Status.RUNNING],
        parts__contains=[{"path": str(path.resolve())}],
    ).order_by("pk")
