"""Metrics, health and structured logs shared by every service.

Metric names follow `civicpulse_<service>_<thing>_<unit>`. Platform metrics (outbox, inbox,
dead letters) are created once per service name, so the embedded single-process mode, which
runs four services in one interpreter, registers each exactly once.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from functools import cache

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest


@dataclass(frozen=True)
class PlatformMetrics:
    consumed: Counter
    duplicates: Counter
    dead_letters: Counter
    retries: Counter
    published: Counter
    outbox_pending: Gauge
    relay_batch_seconds: Histogram
    http_requests: Counter


@cache
def platform_metrics(service: str) -> PlatformMetrics:
    p = f"civicpulse_{service}"
    return PlatformMetrics(
        consumed=Counter(f"{p}_events_consumed_total", "Events handled successfully",
                         ["event_type"]),
        duplicates=Counter(f"{p}_events_duplicate_total",
                           "Events skipped because the inbox had applied them", ["event_type"]),
        dead_letters=Counter(f"{p}_dead_letters_total", "Messages sent to the dead-letter queue",
                             ["reason"]),
        retries=Counter(f"{p}_event_retries_total", "Messages parked for a retry",
                        ["event_type"]),
        published=Counter(f"{p}_outbox_published_total",
                          "Events the outbox relay published with confirms"),
        outbox_pending=Gauge(f"{p}_outbox_pending_events", "Outbox events not yet published"),
        relay_batch_seconds=Histogram(f"{p}_outbox_relay_batch_seconds",
                                      "Time to publish and confirm one outbox batch"),
        http_requests=Counter(f"{p}_http_requests_total", "HTTP requests by route and status",
                              ["route", "status"]),
    )


def metrics_response() -> tuple[int, dict[str, str], str]:
    return 200, {"Content-Type": CONTENT_TYPE_LATEST}, generate_latest().decode()


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the correlation id when the record carries one."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("service", "correlation_id", "event_id"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: str = "INFO") -> None:
    """Root logging to stderr: JSON, or human lines on a terminal (civicpulse.logs)."""
    from civicpulse.logs import LogFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
