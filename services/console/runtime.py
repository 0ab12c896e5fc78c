"""The console's one dependency: its settings, the session cookie's codec (signed with
CONSOLE_SECRET_KEY: the environment's, or in development a local secret kept under var/), its
metrics and its readiness. The console owns no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Histogram

from civicpulse import production, settings
from services.console.session import SessionCodec

REQUESTS = Counter("civicpulse_console_http_requests_total", "Console requests by route and status",
                   ["route", "status"])
PAGE_SECONDS = Histogram("civicpulse_console_page_seconds", "Server time of a console answer",
                         ["route"], buckets=(.01, .025, .05, .1, .15, .25, .5, 1, 2.5, 5))


@dataclass
class ConsoleHandle:
    settings: settings.ConsoleSettings
    codec: SessionCodec

    def observe(self, route: str, status: int, seconds: float) -> None:
        REQUESTS.labels(route, str(status)).inc()
        PAGE_SECONDS.labels(route).observe(seconds)

    def readiness(self) -> dict[str, Any]:
        return {"ready": True, "transport": "console", "office_tz": self.settings.office_tz}


class ConsoleRuntime(DependencyProvider):
    def setup(self) -> None:
        production.check_broker_uri(self.container.config["AMQP_URI"])
        conf = settings.console()
        codec = SessionCodec(production.secret("CONSOLE_SECRET_KEY"),
                             idle_seconds=conf.idle_minutes * 60,
                             max_seconds=conf.max_session_hours * 3600)
        self.handle = ConsoleHandle(conf, codec)

    def get_dependency(self, worker_ctx: Any) -> ConsoleHandle:
        return self.handle
