"""Who can be reached: review's staff directory and liaison's agency directory, asked over RPC
and kept for a short TTL (`NOTIFY_DIRECTORY_TTL_SECONDS`, default 30 s) so a burst of events
asks once. A failed ask raises: the event is retried later rather than planned for nobody."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from civicpulse import settings

T = TypeVar("T")


def ttl_seconds() -> float:
    return float(settings.value("NOTIFY_DIRECTORY_TTL_SECONDS"))


class Cached(Generic[T]):
    """One value, fetched again when older than `ttl` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._value: tuple[float, T] | None = None
        self._lock = threading.Lock()

    def get(self, fetch: Callable[[], T]) -> T:
        now = self.clock()
        with self._lock:
            hit = self._value
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = fetch()
        with self._lock:
            self._value = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._value = None


STAFF: Cached[Any] = Cached(ttl_seconds())
AGENCIES: Cached[Any] = Cached(ttl_seconds())
