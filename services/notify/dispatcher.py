"""The send loops: managed green threads (`send.concurrency`) that send due deliveries, woken
as soon as planning records some (and polling as a fallback, for retries and messages held by
quiet hours).

A claimed delivery is leased (`send.lease_seconds`); if the process dies before recording the
outcome, the lease runs out and another pass sends it again (at-least-once: the mail keeps
its Message-ID, so a client shows the rare resend as one message).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from nameko.extensions import DependencyProvider

from civicpulse.config import of_container
from civicpulse.runtime import Platform
from civicpulse.settings import var_dir
from services.notify import handlers
from services.notify.outcomes import GroupCommit

log = logging.getLogger(__name__)
# senders claiming rows at the same moment (the others send or wait): with the group commit,
# a notify process holds at most CLAIMS_AT_ONCE + 1 database connections for sending
CLAIMS_AT_ONCE = 2


class Dispatcher(DependencyProvider):
    def setup(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()

    def start(self) -> None:
        # several senders, each with its own claimed rows (SKIP LOCKED) and SMTP connection;
        # their outcomes are committed together (group commit: services/notify/outcomes.py)
        cfg = of_container(self.container)
        handle = self._platform()
        self.outcomes = GroupCommit(handle.uow, lambda uow, done: handlers.record_outcomes(
            uow, cfg, done))
        self.claims = threading.BoundedSemaphore(CLAIMS_AT_ONCE)
        for n in range(cfg.concurrency):
            self.container.spawn_managed_thread(self._run, identifier=f"notify-sender-{n}")

    def _platform(self) -> Any:
        (platform,) = [d for d in self.container.dependencies if isinstance(d, Platform)]
        return platform.handle

    def _run(self) -> None:
        cfg = of_container(self.container)
        handle = self._platform()
        senders = handlers.Senders(cfg, var_dir() / "notify-mail")
        while not self._stop.is_set():
            try:
                busy = handlers.send_due(handle.uow(), senders, record=self.outcomes.record,
                                         claim_gate=self.claims) >= cfg.batch
            except Exception:  # noqa: BLE001 - the loop must survive a bad pass
                log.exception("notify send pass failed; trying again shortly")
                busy = False
                time.sleep(1.0)
            if not busy:
                self._wake.wait(cfg.poll_seconds)
                self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> threading.Event:
        return self._wake
