"""Background pass loops in a nameko service: `threads` managed green threads, each calling
`run_pass(handle)` (the service's PlatformHandle) again at once while it reports work done and
waiting `poll_seconds` (or until `wake()`) when it did none. An exception in a pass is logged
and the loop goes on after a second. For senders that drain a table of due work (liaison's
webhook sender; notify's dispatcher has the same shape).

    class Sender(PassLoop):
        def run_pass(self, handle: PlatformHandle) -> bool:
            return send_some(handle.uow()) > 0
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from nameko.extensions import DependencyProvider

from civicpulse.runtime import Platform, PlatformHandle

log = logging.getLogger(__name__)


class PassLoop(DependencyProvider):
    threads = 1
    poll_seconds = 1.0

    def setup(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()

    def run_pass(self, handle: PlatformHandle) -> bool:
        """One pass; True if it did work (the loop then runs the next pass at once)."""
        raise NotImplementedError

    def start(self) -> None:
        for n in range(self.threads):
            self.container.spawn_managed_thread(self._loop,
                                                identifier=f"{type(self).__name__}-{n}")

    def _handle(self) -> PlatformHandle:
        (platform,) = [d for d in self.container.dependencies if isinstance(d, Platform)]
        return platform.handle

    def _loop(self) -> None:
        handle = self._handle()
        while not self._stop.is_set():
            try:
                busy = self.run_pass(handle)
            except Exception:  # noqa: BLE001 - the loop must survive a bad pass
                log.exception("%s: pass failed; trying again shortly", type(self).__name__)
                busy = False
                time.sleep(1.0)
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> PassLoop:
        return self
