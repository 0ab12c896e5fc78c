"""`@handles` on the real RabbitMQ (a fresh vhost per test) and PostgreSQL: duplicates change
nothing, bad messages reach the dead-letter queue with their reason while the service keeps
working, transient failures are retried with backoff."""

import json
import time

import kombu
import pytest
from prometheus_client import REGISTRY

from civicpulse import deadletter
from tests.helpers import wait_for, wait_until
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
    labels = {"event_type": ev.type}
    before = REGISTRY.get_sample_value("civicpulse_probe_events_duplicate_total", labels) or 0
    for _ in range(3):
        publish(running_probe, ev.to_json())
    # the three run concurrently (PostgreSQL waits yield): done = one applied, two duplicates
    assert wait_until(lambda: probe.APPLIED and REGISTRY.get_sample_value(
        "civicpulse_probe_events_duplicate_total", labels) == before + 2)
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
    quorum_probe_queue(container_factory, rabbit_config, pg_database, monkeypatch)


def quorum_probe_queue(container_factory, rabbit_config, pg_database, monkeypatch):
    """Run the probe on quorum queues, check it consumes, stop it; its queue's name."""
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
    assert ours[0]["arguments"]["x-dead-letter-exchange"] == deadletter.DLX
    ev = probe.incident("inc-quorum")
    probe.APPLIED.clear()
    publish(rabbit_config["AMQP_URI"], ev.to_json())
    assert wait_until(lambda: ev.id in probe.APPLIED)
    container.stop()
    return ours[0]["name"]


def test_a_quorum_queue_dead_letters_past_its_delivery_limit(
        container_factory, rabbit_config, pg_database, monkeypatch):
    """A message redelivered past x-delivery-limit (its consumer died on it each time) lands in
    the DLQ instead of being dropped, and `dlq replay` sends it back (source from x-death)."""
    monkeypatch.setenv("CIVICPULSE_MAX_RETRIES", "1")  # delivery limit 2
    queue = quorum_probe_queue(container_factory, rabbit_config, pg_database,
                                            monkeypatch)
    uri = rabbit_config["AMQP_URI"]
    ev = probe.incident("inc-poison-pill")
    publish(uri, ev.to_json())
    with kombu.Connection(uri) as conn:
        q = kombu.Queue(queue, no_declare=True)(conn.channel())
        for _ in range(3):  # as if three consumers died holding it
            wait_for(lambda: q.get(no_ack=False), timeout=10).requeue()
        assert wait_until(lambda: len(dead_letters(uri)) == 1, timeout=10)
    assert dead_letters(uri)[0].queue == queue
    assert deadletter.replay(uri, "probe") == 1
    assert dead_letters(uri) == []


def test_dlq_replay_skips_and_reports_letters_without_a_source(rabbit_config, rabbitmq):
    uri = rabbit_config["AMQP_URI"]
    with kombu.Connection(uri) as conn:
        target = kombu.Queue("t.replay.target", durable=True)(conn.channel())
        target.declare()
        producer = kombu.Producer(conn.channel())
        for n, headers in enumerate([{deadletter.H_QUEUE: "t.replay.target"}, {},
                                     {deadletter.H_QUEUE: "t.replay.target"}]):
            producer.publish(f"letter-{n}".encode(), exchange=deadletter.dlx_exchange(),
                             routing_key="probe", headers=headers, message_id=f"m{n}",
                             declare=[deadletter.dlq("probe")])
        report = deadletter.replay_report(uri, "probe")
        assert report.replayed == 2
        assert [letter.message_id for letter in report.skipped] == ["m1"]
        assert [m.body for m in iter(lambda: target.get(no_ack=True), None)] == [
            b"letter-0", b"letter-2"]
    assert [letter.message_id for letter in dead_letters(uri)] == ["m1"]  # left for a human
