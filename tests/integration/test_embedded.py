"""The embedded single-process mode: RPC, events (through the outbox relay) and timers on
kombu's memory:// transport, with SQLite."""


import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from civicpulse.embedded import MEMORY_URI, memory_config, patch_memory_rpc
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
