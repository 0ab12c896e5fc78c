"""`@consume_batches` on the real RabbitMQ (a fresh vhost): batches are bounded, a message that
fails on its own is dead-lettered while its batch-mates are handled, a batch that fails as a
whole is requeued (nothing is lost, nothing acknowledged before it was handled)."""

import json
import time

import kombu
import pytest

from civicpulse import deadletter
from services.sentiment.batch_consumer import consume_batches
from tests.helpers import wait_until

pytestmark = pytest.mark.integration
QUEUE = "probe.batches"
SEEN: list[list[int]] = []
STATE = {"down": False}


class BatchProbe:
    name = "batchprobe"

    @consume_batches(QUEUE, max_messages=50, max_wait_ms=50)
    def handle(self, items):
        if STATE["down"]:
            raise ConnectionError("database is down")
        if any(i.get("boom") for i in items):
            raise ValueError("boom")
        SEEN.append([i["n"] for i in items])
        return {"rejected": [{"index": k, "errors": {"n": ["odd one"]}}
                             for k, i in enumerate(items) if i.get("reject")]}


def publish(uri, items):
    with kombu.Connection(uri) as conn:
        producer = kombu.Producer(conn.channel())
        for item in items:
            producer.publish(json.dumps(item), routing_key=QUEUE, serializer=None,
                             content_type="application/json", content_encoding="utf-8",
                             declare=[kombu.Queue(QUEUE, durable=True)])


def handled():
    return sorted(n for batch in SEEN for n in batch)


@pytest.fixture
def probe(container_factory, rabbit_config, rabbitmq):
    SEEN.clear()
    STATE["down"] = False
    container = container_factory(BatchProbe, rabbit_config)
    container.start()
    yield rabbit_config["AMQP_URI"]
    container.stop()


def test_batches_are_bounded_and_a_poison_message_is_dead_lettered_alone(probe):
    publish(probe, [{"n": i} for i in range(120)] + [{"n": 999, "boom": True}]
            + [{"n": 1000, "reject": True}])
    assert wait_until(lambda: len(handled()) == 121)
    assert handled() == [*range(120), 1000]
    assert max(len(b) for b in SEEN) <= 50
    letters = deadletter.list_dead_letters(probe, "batchprobe")
    assert sorted(x.reason for x in letters) == ["error", "invalid"]
    assert any("boom" in x.error for x in letters)


def test_a_batch_failing_as_a_whole_is_requeued_not_lost(probe):
    STATE["down"] = True
    publish(probe, [{"n": i} for i in range(30)])
    time.sleep(1.5)
    assert handled() == []
    STATE["down"] = False
    assert wait_until(lambda: handled() == list(range(30)), timeout=30)
    assert deadletter.list_dead_letters(probe, "batchprobe") == []
