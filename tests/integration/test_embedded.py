"""The embedded single-process mode: RPC, events (through the outbox relay) and timers on
kombu's memory:// transport, with SQLite."""


import contextlib
import time

import kombu
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from civicpulse.embedded import (
    MEMORY_URI,
    memory_config,
    patch_memory_rpc,
    patch_memory_transport,
)
from tests.helpers import wait_until
from tests.integration import probe


@pytest.fixture
def embedded_probe(container_factory, tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_DATABASE_URL", f"sqlite:///{tmp_path / 'probe.db'}")
    patch_memory_rpc()
    probe.APPLIED.clear()
    probe.TICKS.clear()
    config = {**memory_config("probe"), "WEB_SERVER_ADDRESS": "127.0.0.1:0"}
    container = container_factory(probe.ProbeService, config)
    container.start()
    yield config
    container.stop()


def test_rpc_events_and_timers_work_on_memory_transport(embedded_probe):
    with ServiceRpcProxy("probe", {"AMQP_URI": MEMORY_URI}) as proxy:
        event_id = proxy.emit("inc-embedded")  # RPC reply: needs the content_type fix
        assert wait_until(lambda: event_id in proxy.applied())  # outbox → relay → handler
    assert wait_until(lambda: len(probe.TICKS) >= 3)  # @timer


def test_a_retried_event_comes_back_in_process(embedded_probe, monkeypatch):
    """On memory:// a parked retry has no broker TTL to bring it back: the consumer waits in
    process and redelivers it (it used to stay in `<queue>.retry` for ever)."""
    monkeypatch.setenv("CIVICPULSE_RETRY_BASE_SECONDS", "0.05")
    ev = probe.incident("inc-embedded-flaky", probe_mode="flaky")  # fails twice, then applies
    with kombu.Connection(MEMORY_URI) as conn:
        kombu.Producer(conn.channel()).publish(
            ev.to_json(), exchange=kombu.Exchange("sentiment.events", type="topic"),
            routing_key=ev.type, content_type="application/json", content_encoding="utf-8")
    assert wait_until(lambda: ev.id in probe.APPLIED, timeout=20)
    assert probe.ATTEMPTS[ev.id] == 3


def test_unacknowledged_messages_come_back_when_a_memory_channel_closes():
    """A consumer that gives a batch back by closing its channel (the sentiment batch consumer
    on a transient database error) gets it again instead of losing it."""
    patch_memory_transport()
    queue = kombu.Queue("t.embedded.batch", kombu.Exchange("t.embedded.batch", "direct"),
                        routing_key="t.embedded.batch")
    with kombu.Connection(MEMORY_URI) as conn:
        producer = kombu.Producer(conn.channel())
        for i in range(3):
            producer.publish(f"m{i}", exchange=queue.exchange, routing_key=queue.routing_key,
                             declare=[queue])

    def take(ack: bool) -> list[bytes]:
        got: list[kombu.Message] = []
        with kombu.Connection(MEMORY_URI) as conn:
            with kombu.Consumer(conn.channel(), [queue], on_message=got.append):
                deadline = time.monotonic() + 5
                while len(got) < 3 and time.monotonic() < deadline:
                    with contextlib.suppress(TimeoutError):
                        conn.drain_events(timeout=0.2)
            if ack:
                for message in got:
                    message.ack()
        return sorted(m.body for m in got)

    assert take(ack=False) == [b"m0", b"m1", b"m2"]  # a failed batch: not acknowledged
    assert take(ack=True) == [b"m0", b"m1", b"m2"]  # ...and delivered again
