"""Reading Takeout archive parts without extracting them.

A *part* is what the user hands us: a .zip, a .tgz / .tar.gz, an extracted
Takeout folder, or a single exported file. Each offers its members one at a
time as streams, in a stable order, so an import can resume by member.

Safety checks happen in ``inspect`` before anything is written: path
traversal, archive bombs (total size, compression ratio) and truncated or
corrupt archives are rejected with an ArchiveRejected the user can read.
Corruption only visible while reading (a zip member failing its CRC) raises
ArchiveRejected from the member stream.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from django.conf import settings

# Limits against archive bombs, from settings (see there why these numbers).
MAX_TOTAL_BYTES: int = settings.DATAPUNK_MAX_ARCHIVE_BYTES
MAX_RATIO: float = settings.DATAPUNK_MAX_COMPRESSION_RATIO
# Small members may compress extremely well (a file of spaces): only judge
# the ratio of members big enough to matter.
RATIO_MIN_BYTES = 10 * 1024 * 1024
MAX_MEMBERS = 2_000_000


class ArchiveRejected(Exception):
    """The archive is unsafe or unreadable; the message is for the user."""


@dataclass(frozen=True, slots=True)
class Member:
    path: PurePosixPath  # inside the archive, e.g. Takeout/Chrome/History.json
    size: int  # uncompressed bytes
    modified: datetime  # the archive's time for the member (Takeout: export time)


def _check_utf8(name: str, where: str) -> None:
    # Names arrive with undecodable bytes as surrogates (os, tarfile); they can
    # be neither stored nor shown. Takeout writes UTF-8: a local rename did this.
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise ArchiveRejected(
            f"{where}: the file name {shown!r} is not valid UTF-8; rename it and try again"
        ) from None


def _check_member_path(name: str, part: Path) -> PurePosixPath:
    _check_utf8(name, part.name)
    normalized = name.replace("\\", "/")
    path = PurePosixPath(normalized)
    if (
        normalized.startswith("/")
        or ".." in path.parts
        or (len(normalized) > 1 and normalized[1] == ":")
    ):
        raise ArchiveRejected(
            f"{part.name}: unsafe member path {name!r} (absolute or leaving the archive)"
        )
    return path


def _size(count: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def _check_totals(part: Path, members: list[Member], compressed: int) -> None:
    total = sum(member.size for member in members)
    if len(members) > MAX_MEMBERS:
        raise ArchiveRejected(
            f"{part.name}: {len(members)} members, more than the {MAX_MEMBERS} allowed"
        )
    if total > MAX_TOTAL_BYTES:
        raise ArchiveRejected(
            f"{part.name}: expands to {_size(total)}, more than the "
            f"{_size(MAX_TOTAL_BYTES)} allowed (DATAPUNK_MAX_ARCHIVE_BYTES)"
        )
    if total > RATIO_MIN_BYTES and compressed and total / compressed > MAX_RATIO:
        raise ArchiveRejected(
            f"{part.name}: expands {total / compressed:.0f} times its size, a likely archive bomb "
            f"(limit {MAX_RATIO:.0f}, DATAPUNK_MAX_COMPRESSION_RATIO)"
        )


class Part:
    """One input path. ``kind`` is "zip", "tar", "folder" or "file"."""

    def __init__(self, path: Path):
        self.path = path
        self.kind = _kind_of(path)
        self._members: list[Member] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def inspect(self) -> list[Member]:
        """List the members, rejecting unsafe or broken archives. Reads no member data for zips."""
        if self._members is None:
            self._members = {
                "zip": self._inspect_zip,
                "tar": self._inspect_tar,
                "folder": self._inspect_folder,
                "file": self._inspect_file,
            }[self.kind]()
        return self._members

    def _inspect_zip(self) -> list[Member]:
        try:
            with zipfile.ZipFile(self.path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArchiveRejected(
                f"{self.name}: not a readable zip archive (truncated or corrupt?): {exc}"
            ) from None
        members = []
        for info in infos:
            if info.is_dir():
                continue
            path = _check_member_path(info.filename, self.path)
            if (
                info.file_size > RATIO_MIN_BYTES
                and info.compress_size
                and info.file_size / info.compress_size > MAX_RATIO
            ):
                raise ArchiveRejected(
                    f"{self.name}: member {info.filename!r} expands {info.file_size / info.compress_size:.0f} "
                    f"times, a likely archive bomb (limit {MAX_RATIO:.0f})"
                )
            members.append(Member(path, info.file_size, datetime(*info.date_time, tzinfo=UTC)))
        _check_totals(self.path, members, self.path.stat().st_size)
        return members

    def _inspect_tar(self) -> list[Member]:
        # A compressed tar has no index: walk it once (headers only are kept)
        # so traversal, bombs and truncation are caught before any write.
        members = []
        total = 0
        compressed = max(self.path.stat().st_size, 1)
        try:
            with tarfile.open(self.path, mode="r|*") as archive:
                for info in archive:
                    if info.isdir():
                        continue
                    if not info.isfile():
                        raise ArchiveRejected(
                            f"{self.name}: member {info.name!r} is a link or device, not a file"
                        )
                    path = _check_member_path(info.name, self.path)
                    members.append(Member(path, info.size, datetime.fromtimestamp(info.mtime, UTC)))
                    total += info.size
                    if total > MAX_TOTAL_BYTES or (
                        total > RATIO_MIN_BYTES and total / compressed > MAX_RATIO
                    ):
                        break  # a bomb: stop expanding it; _check_totals says why
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise ArchiveRejected(
                f"{self.name}: not a readable tar archive (truncated or corrupt?): {exc}"
            ) from None
        _check_totals(self.path, members, self.path.stat().st_size)
        return members

    def _inspect_folder(self) -> list[Member]:
        members = []
        for file in sorted(p for p in self.path.rglob("*") if p.is_file() and not p.is_symlink()):
            stat = file.stat()
            members.append(
                Member(
                    _check_member_path(file.relative_to(self.path).as_posix(), self.path),
                    stat.st_size,
                    datetime.fromtimestamp(stat.st_mtime, UTC),
                )
            )
        return members

    def _inspect_file(self) -> list[Member]:
        stat = self.path.stat()
        return [
            Member(
                PurePosixPath(self.path.name),
                stat.st_size,
                datetime.fromtimestamp(stat.st_mtime, UTC),
            )
        ]

    @contextmanager
    def reader(self) -> Iterator[MemberReader]:
        """Open the part for reading members in ``inspect`` order."""
        if self.kind == "zip":
            with zipfile.ZipFile(self.path) as archive:
                yield _ZipReader(self, archive)
        elif self.kind == "tar":
            with tarfile.open(self.path, mode="r|*") as archive:
                yield _TarReader(self, archive)
        else:
            yield _FileReader(self)


class MemberReader:
    """Gives each member's stream, in order; a tar can only go forward."""

    def open(self, member: Member) -> MemberStream:  # pragma: no cover - interface
        raise NotImplementedError


class _ZipReader(MemberReader):
    def __init__(self, part: Part, archive: zipfile.ZipFile):
        self.part, self.archive = part, archive
        self._infos = {PurePosixPath(i.filename.replace("\\", "/")): i for i in archive.infolist()}

    def open(self, member: Member) -> MemberStream:
        try:
            return MemberStream(self.archive.open(self._infos[member.path]), self.part)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ArchiveRejected(
                f"{self.part.name}: cannot open member {member.path}: {exc}"
            ) from None


class _TarReader(MemberReader):
    def __init__(self, part: Part, archive: tarfile.TarFile):
        self.part, self.archive = part, archive
        self._iter = iter(archive)

    def open(self, member: Member) -> MemberStream:
        try:
            for info in self._iter:
                if info.isfile() and PurePosixPath(info.name.replace("\\", "/")) == member.path:
                    stream = self.archive.extractfile(info)
                    assert stream is not None
                    return MemberStream(stream, self.part)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise ArchiveRejected(f"{self.part.name}: archive broke while reading: {exc}") from None
        raise ArchiveRejected(f"{self.part.name}: member {member.path} not found where expected")


class _FileReader(MemberReader):
    def __init__(self, part: Part):
        self.part = part

    def open(self, member: Member) -> MemberStream:
        path = self.part.path / member.path if self.part.kind == "folder" else self.part.path
        return MemberStream(open(path, "rb"), self.part)


class MemberStream(io.RawIOBase):
    """A forward-only member stream that turns archive-level read errors into
    ArchiveRejected and counts the bytes read (for progress).

    A real RawIOBase (not seekable, not writable), so io.BufferedReader and
    io.TextIOWrapper (the CSV parsers) accept it as they accept a file.
    """

    def __init__(self, stream: IO[bytes], part: Part):
        super().__init__()
        self._stream, self._part = stream, part
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        try:
            data = self._stream.read(-1 if size is None else size)
        except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError) as exc:
            raise ArchiveRejected(
                f"{self._part.name}: archive is corrupt or truncated: {exc}"
            ) from None
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[override]  # io.BufferedReader reads through it
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._stream.close()
        super().close()


def _kind_of(path: Path) -> str:
    _check_utf8(str(path), "archive part")
    if path.is_dir():
        return "folder"
    if not path.is_file():
        raise ArchiveRejected(f"{path.name}: no such file or folder (was it moved or deleted?)")
    with open(path, "rb") as handle:
        magic = handle.read(262)
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06"):
        return "zip"
    if (
        magic.startswith(b"\x1f\x8b")
        or magic.startswith(b"BZh")
        or magic.startswith(b"\xfd7zXZ")
        or magic[257:262] == b"ustar"
    ):
        return "tar"
    if path.suffix.casefold() in {".zip", ".tgz", ".gz", ".tar"}:
        raise ArchiveRejected(
            f"{path.name}: named like an archive but is not one (truncated download?)"
        )
    return "file"
