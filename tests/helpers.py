"""Small helpers the integration and end-to-end tests share."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import kombu

from civicpulse.envelope import Envelope


def publish_event(uri: str, event: Envelope) -> None:
    """Publish an envelope the way the outbox relay does: on `<producer>.events`, routing key =
    event type."""
    with kombu.Connection(uri) as conn:
        kombu.Producer(conn.channel()).publish(
            event.to_json().encode(), routing_key=event.type, retry=True,
            exchange=kombu.Exchange(f"{event.producer}.events", type="topic", durable=True),
            content_type="application/json", content_encoding="utf-8")


def wait_until(fn: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> bool:
    """Poll `fn` until it returns something true; False when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(every)
    return False


def wait_for(fn: Callable[[], Any], timeout: float = 15.0, every: float = 0.1) -> Any:
    """Poll `fn` until it returns something true and return it; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := fn():
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def json_values(text: str) -> list[Any]:
    """JSON values written back to back (e.g. `amqp-consume ... cat`), in order."""
    decoder, values, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return values
        value, i = decoder.raw_decode(text, i)
        values.append(value)


def free_port() -> int:
    """A TCP port for a service started by a test: the launcher's picker, so the ports tests
    choose and the ones the launcher gives replicas never coincide."""
    from civicpulse.launcher import free_port as launcher_free_port

    return launcher_free_port()
