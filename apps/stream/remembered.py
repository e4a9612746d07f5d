"""Credentials remembered in the process once verified (device credentials,
ingest keys): a request need not look its sender up in the database.

Only *which* row a credential is gets remembered; whether that row still
exists and may send is checked where the request is stored, in the storing
transaction (one query per group), so a credential revoked in another
process is refused from its revocation's commit on. Revoking in this
process also forgets it at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class Remembered(Generic[Value]):
    """A small LRU with an age limit; thread-safe (ingest threads, the committer)."""

    def __init__(self, *, max_entries: int, seconds: float) -> None:
        self.max_entries, self.seconds = max_entries, seconds
        self._lock = threading.Lock()
        self._known: OrderedDict[Hashable, tuple[Value, float]] = OrderedDict()

    def get(self, key: Hashable, *, now: float | None = None) -> Value | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._known.get(key)
            if entry is None:
                return None
            if now - entry[1] >= self.seconds:
                del self._known[key]
                return None
            self._known.move_to_end(key)
            return entry[0]

    def put(self, key: Hashable, value: Value, *, now: float | None = None) -> None:
        with self._lock:
            self._known[key] = (value, time.monotonic() if now is None else now)
            self._known.move_to_end(key)
            while len(self._known) > self.max_entries:
                self._known.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._known.pop(key, None)

    def forget_where(self, test: Callable[[Value], bool]) -> None:
        with self._lock:
            for key in [key for key, (value, _) in self._known.items() if test(value)]:
                del self._known[key]
