"""/readyz answers ready only once the service's event consumers are bound (issue #9 notes in
docs/reliability.md): an event published as soon as a service says ready must reach its queue,
not the exchange's void. The broker is made slow to register the consumers, so the window in
which the HTTP server already answers and the queues are not yet bound is seconds wide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import eventlet
import pytest
import requests
from sqlalchemy import text

from civicpulse.consumers import SafeQueueConsumer
from civicpulse.db import make_engine
from civicpulse.envelope import new_event
from services.review.service import ReviewService
from tests.helpers import (
    free_port,  # noqa: F401 - one port picker for the run
    publish_event,
    wait_until,
)

pytestmark = pytest.mark.integration
BIND_DELAY = 3.0


def readyz(url: str) -> dict[str, Any] | None:
    try:
        r = requests.get(f"{url}/readyz", timeout=2)
    except requests.RequestException:
        return None
    return r.json() if r.status_code == 200 else None


def test_readyz_waits_for_the_event_consumers(container_factory: Any,
                                              rabbit_config: dict[str, Any], pg_database: str,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              rabbitmq: str) -> None:
    monkeypatch.setenv("REVIEW_DATABASE_URL", pg_database)
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path))
    bind = SafeQueueConsumer.get_consumers

    def slow_bind(self: SafeQueueConsumer, consumer_cls: Any, channel: Any) -> Any:
        eventlet.sleep(BIND_DELAY)  # a loaded broker: queues are declared and bound late
        return bind(self, consumer_cls, channel)

    monkeypatch.setattr(SafeQueueConsumer, "get_consumers", slow_bind)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    container = container_factory(ReviewService, {**rabbit_config,
                                                  "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    starting = eventlet.spawn(container.start)
    assert wait_until(lambda: readyz(url), timeout=60, every=0.05), "never ready"
    # ready: an item submitted now must open a case
    publish_event(rabbit_config["AMQP_URI"], new_event("news.item.submitted", {
        "item_id": "itm-ready", "revision": 1, "kind": "article", "title": "人大工作进行时",
        "body": "<p>正文</p>", "author": "editor-li", "content_hash": "c" * 64},
        correlation_id="itm-ready"))
    starting.wait()
    engine = make_engine(pg_database)

    def cases() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM cases")).scalar_one()

    assert wait_until(lambda: cases() == 1, timeout=20), \
        "an event published once /readyz said ready was lost (no queue bound yet)"
    assert readyz(url)["consumers"] == "ok"  # type: ignore[index]
    engine.dispose()
