"""A member stream for the parsers' streaming tests."""

from __future__ import annotations

import io


class CountingStream(io.RawIOBase):
    """A member stream that says how much of it has been read (64 KiB at a time at most)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(min(len(buffer), 64 * 1024))
        buffer[: len(chunk)] = chunk
        self.read_bytes += len(chunk)
        return len(chunk)
