"""The nameko dependency every service declares: database, unit of work, outbox relay.

    class LiaisonService:
        name = "liaison"
        platform = Platform("liaison", MIGRATIONS_DIR)

On setup it applies the service's Alembic migrations; on start it runs the outbox relay in a
managed green thread, woken right after each commit that recorded events (and polling as a
fallback). Workers get a `PlatformHandle` whose `uow()` opens a fresh unit of work.

`readiness()` (what /readyz answers) is ready when the database answers, the relay is connected
and every consumer of the service consumes: an extension of the container with a `consuming`
attribute (`civicpulse.consumers.SafeQueueConsumer`, sentiment's batch consumer) must have it
True, so that an event published once the service says ready reaches a bound queue.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from civicpulse import production
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
    consumers: Callable[[], list[Any]] = list

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
        waiting = [c for c in self.consumers() if not c.consuming]
        checks["consumers"] = "ok" if not waiting else "starting"
        checks["transport"] = "memory" if self.amqp_uri.startswith("memory") else "amqp"
        try:
            checks["outbox_pending"] = self.relay.pending()
        except Exception:  # noqa: BLE001
            checks["outbox_pending"] = None
        checks["ready"] = (checks["database"] == "ok" and checks["broker"] == "ok"
                           and checks["consumers"] == "ok")
        return checks


class Platform(DependencyProvider):
    def __init__(self, service: str, migrations_dir: Path) -> None:
        self.service = service
        self.migrations_dir = migrations_dir

    def setup(self) -> None:
        settings = for_service(self.service)
        production.check_broker_uri(self.container.config["AMQP_URI"])
        migrate(settings.database_url, self.migrations_dir)
        engine = make_engine(settings.database_url)
        amqp_uri = self.container.config["AMQP_URI"]
        self.metrics = metrics = platform_metrics(self.service)
        relay = Relay(engine, lambda: publisher_for(amqp_uri),
                      batch_size=settings.relay_batch_size,
                      on_published=metrics.published.inc,
                      on_batch_seconds=metrics.relay_batch_seconds.observe)
        metrics.outbox_pending.set_function(partial(_pending_or_nan, relay))
        self._stop = threading.Event()
        self.handle = PlatformHandle(settings, engine, session_factory(engine), relay,
                                     threading.Event(), amqp_uri, self._consumers)

    def _consumers(self) -> list[Any]:
        """The container's extensions that consume from the broker (they say `consuming`)."""
        return [e for e in self.container.extensions if hasattr(e, "consuming")]

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

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        """Count every HTTP request of the service by route and status."""
        entrypoint = worker_ctx.entrypoint
        if isinstance(entrypoint, HttpRequestHandler):
            route = f"{entrypoint.method} {entrypoint.url}"
            self.metrics.http_requests.labels(route, str(http_status(result, exc_info))).inc()


def http_status(result: Any, exc_info: Any) -> int:
    """The status an @http worker's outcome becomes (nameko's conventions: a Response, a
    `(status, ...)` tuple, a bare body = 200; an exception = its HTTP code, else 500)."""
    if exc_info is not None:
        exc = exc_info[1]
        for attr in ("code", "status", "status_code"):  # werkzeug, civicpulse.web, others
            if isinstance(status := getattr(exc, attr, None), int):
                return status
        return 500
    if isinstance(result, tuple) and result and isinstance(result[0], int):
        return result[0]
    return int(getattr(result, "status_code", 200))


def _pending_or_nan(relay: Relay) -> float:
    """The outbox backlog for the gauge at scrape time; NaN while the database is down."""
    try:
        return float(relay.pending())
    except Exception:  # noqa: BLE001 - a scrape must not fail with the database
        return math.nan
