"""`@handles` on the real RabbitMQ (a fresh vhost per test) and PostgreSQL: duplicates change
nothing, bad messages reach the dead-letter queue with their reason while the service keeps
working, transient failures are retried with backoff."""

import json
import time

import kombu
import pytest

from civicpulse import deadletter
from tests.helpers import wait_until
from tests.integration import probe

pytestmark = pytest.mark.integration


@pytest.fixture
def running_probe(container_factory, rabbit_config, pg_database, monkeypatch, rabbitmq):
    monkeypatch.setenv("PROBE_DATABASE_URL", pg_database)
    monkeypatch.setenv("CIVICPULSE_RETRY_BASE_SECONDS", "0.05")
    monkeypatch.setenv("CIVICPULSE_MAX_RETRIES", "3")
    probe.APPLIED.clear()
    probe.ATTEMPTS.clear()
    container = container_factory(probe.ProbeService, rabbit_config)
    container.start()
    yield rabbit_config["AMQP_URI"]
    container.stop()


def publish(uri, body, *, content_type="application/json", routing_key=None):
    with kombu.Connection(uri) as conn:
        producer = kombu.Producer(conn.channel())
        producer.publish(body, exchange=kombu.Exchange("sentiment.events", type="topic",
                                                       durable=True),
                         routing_key=routing_key or "sentiment.incident.detected",
                         content_type=content_type, content_encoding="utf-8", retry=True)


def dead_letters(uri):
    return deadletter.list_dead_letters(uri, "probe")


def test_a_duplicated_event_has_one_effect(running_probe):
    ev = probe.incident("inc-dup")
    for _ in range(3):
        publish(running_probe, ev.to_json())
    assert wait_until(lambda: probe.ATTEMPTS.get(ev.id) == 3)
    assert [ev.id] == probe.APPLIED


def test_malformed_message_is_dead_lettered_with_reason_and_service_keeps_working(
        running_probe):
    publish(running_probe, b"{not json", content_type="application/json")
    publish(running_probe, b"hello", content_type="text/plain")
    bad = json.loads(probe.incident("inc-bad").to_json())
    del bad["payload"]["level"]
    publish(running_probe, json.dumps(bad))
    assert wait_until(lambda: len(dead_letters(running_probe)) == 3)
    letters = dead_letters(running_probe)
    assert {d.reason for d in letters} == {"malformed", "schema"}
    assert all(d.queue.startswith("evt-sentiment-sentiment.incident.detected--probe") for d in
               letters)
    assert any("level" in d.error for d in letters)

    good = probe.incident("inc-good")
    publish(running_probe, good.to_json())
    assert wait_until(lambda: good.id in probe.APPLIED)


def test_permanent_failure_in_handler_is_dead_lettered_once(running_probe):
    ev = probe.incident("inc-perm", probe_mode="permanent")
    publish(running_probe, ev.to_json())
    assert wait_until(lambda: len(dead_letters(running_probe)) == 1)
    time.sleep(0.3)
    assert probe.ATTEMPTS[ev.id] == 1
    assert dead_letters(running_probe)[0].reason == "schema"


def test_transient_failure_is_retried_with_backoff_then_applied(running_probe):
    ev = probe.incident("inc-flaky", probe_mode="flaky")
    publish(running_probe, ev.to_json())
    assert wait_until(lambda: ev.id in probe.APPLIED)
    assert probe.ATTEMPTS[ev.id] == 3
    assert dead_letters(running_probe) == []


def test_dlq_replay_sends_letters_back(running_probe):
    ev = probe.incident("inc-replay", probe_mode="permanent")
    publish(running_probe, ev.to_json())
    assert wait_until(lambda: len(dead_letters(running_probe)) == 1)
    assert deadletter.replay(running_probe, "probe") == 1
    assert wait_until(lambda: probe.ATTEMPTS.get(ev.id) == 2)
    assert wait_until(lambda: len(dead_letters(running_probe)) == 1)


def test_outbox_events_reach_handlers_through_the_relay(running_probe, container_factory):
    from nameko.standalone.rpc import ServiceRpcProxy

    with ServiceRpcProxy("probe", {"AMQP_URI": running_probe}) as proxy:
        event_id = proxy.emit("inc-outbox")
        assert wait_until(lambda: event_id in proxy.applied())


def test_quorum_queues_as_a_setting(container_factory, rabbit_config, pg_database, monkeypatch):
    monkeypatch.setenv("PROBE_DATABASE_URL", pg_database)
    monkeypatch.setenv("CIVICPULSE_QUORUM_QUEUES", "true")
    container = container_factory(probe.ProbeService, rabbit_config)
    container.start()
    vhost = rabbit_config["AMQP_URI"].rsplit("/", 1)[1]
    import requests

    queues = requests.get(f"http://127.0.0.1:15672/api/queues/{vhost}", auth=("guest", "guest"),
                          timeout=10).json()
    ours = [q for q in queues if q["name"].endswith("--probe.on_incident")]
    assert ours and ours[0]["type"] == "quorum"
    ev = probe.incident("inc-quorum")
    probe.APPLIED.clear()
    publish(rabbit_config["AMQP_URI"], ev.to_json())
    assert wait_until(lambda: ev.id in probe.APPLIED)
    container.stop()
