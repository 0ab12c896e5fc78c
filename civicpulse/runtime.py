"""The nameko dependency every service declares: database, unit of work, outbox relay.

    class LiaisonService:
        name = "liaison"
        platform = Platform("liaison", MIGRATIONS_DIR)

On setup it applies the service's Alembic migrations; on start it runs the outbox relay in a
managed green thread, woken right after each commit that recorded events (and polling as a
fallback). Workers get a `PlatformHandle` whose `uow()` opens a fresh unit of work.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.observability import platform_metrics
from civicpulse.outbox import Relay
from civicpulse.publishing import publisher_for
from civicpulse.settings import ServiceSettings, for_service

log = logging.getLogger(__name__)


@dataclass
class PlatformHandle:
    settings: ServiceSettings
    engine: Engine
    sessions: sessionmaker[Session]
    relay: Relay
    wake: threading.Event
    amqp_uri: str

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.settings.name, on_commit=self.wake.set)

    def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            log.warning("readiness: database check failed: %s", exc)
            checks["database"] = "error"  # the reason goes to the log, never to the caller
        checks["broker"] = "ok" if self.relay.connected else "connecting"
        checks["transport"] = "memory" if self.amqp_uri.startswith("memory") else "amqp"
        try:
            checks["outbox_pending"] = self.relay.pending()
        except Exception:  # noqa: BLE001
            checks["outbox_pending"] = None
        checks["ready"] = checks["database"] == "ok" and checks["broker"] == "ok"
        return checks


class Platform(DependencyProvider):
    def __init__(self, service: str, migrations_dir: Path) -> None:
        self.service = service
        self.migrations_dir = migrations_dir

    def setup(self) -> None:
        settings = for_service(self.service)
        migrate(settings.database_url, self.migrations_dir)
        engine = make_engine(settings.database_url)
        amqp_uri = self.container.config["AMQP_URI"]
        metrics = platform_metrics(self.service)
        relay = Relay(engine, lambda: publisher_for(amqp_uri),
                      batch_size=settings.relay_batch_size,
                      on_published=metrics.published.inc)
        self._stop = threading.Event()
        self.handle = PlatformHandle(settings, engine, session_factory(engine), relay,
                                     threading.Event(), amqp_uri)

    def start(self) -> None:
        self.container.spawn_managed_thread(self._run_relay, identifier="outbox-relay")

    def _run_relay(self) -> None:
        self.handle.relay.run(self._stop, self.handle.wake,
                              poll_seconds=self.handle.settings.relay_poll_seconds)

    def stop(self) -> None:
        self._stop.set()
        self.handle.wake.set()
        self.handle.relay.reset()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> PlatformHandle:
        return self.handle
