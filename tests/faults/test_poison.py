"""Poison: 1,000 malformed, oversized, wrongly encoded and wrong-version messages on every queue
the four services consume (one replica each, as processes, on a fresh vhost of the machine's
RabbitMQ and fresh PostgreSQL databases).

Every one ends in its service's dead-letter queue with a reason and its source queue, no
service process dies, each service's dead-letter counter counts its share, and
`civicpulse dlq replay` brings back the letters that have become valid meanwhile: escalations
of incidents that had no ticket yet gave up their retries, the tickets opened later, and the
replay applies them (the poison replayed with them lands in the dead-letter queue again).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import kombu
import pytest
import requests

from civicpulse.deadletter import H_QUEUE, H_REASON, dlq_name
from civicpulse.envelope import new_event
from civicpulse.launcher import Suite
from tests.e2e.conftest import MGMT, free_port
from tests.faults.harness import SERVICES, staff_token
from tests.helpers import publish_event, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

POISON = 1000
LATE = 10  # escalations that arrive before their ticket, dead-lettered, then replayed
AUTH = ("guest", "guest")
KINDS = ("malformed", "encoding", "oversized", "version")


@pytest.fixture
def suite(vhost_uri, pg_database_factory, tmp_path: Path):
    env = {"AMQP_URI": vhost_uri, "CIVICPULSE_VAR_DIR": str(tmp_path / "var"),
           "CIVICPULSE_MAX_RETRIES": "1", "CIVICPULSE_RETRY_BASE_SECONDS": "0.2"}
    for svc in SERVICES:
        env[f"{svc.upper()}_DATABASE_URL"] = pg_database_factory(f"cp_poison_{svc}")
        env[f"{svc.upper()}_HTTP_PORT"] = str(free_port())
    running = Suite()
    running.start("processes", env=env, log_dir=tmp_path / "logs", services=SERVICES)
    try:
        running.wait_ready(timeout=180)
        yield running, {**os.environ, **env}
    finally:
        running.stop()


def consumed_queues(vhost: str) -> list[str]:
    """The queues the services consume: nameko event handlers' and sentiment's work queue."""
    r = requests.get(f"{MGMT}/queues/{vhost}", auth=AUTH, timeout=10)
    r.raise_for_status()
    return sorted(q["name"] for q in r.json()
                  if (q["name"].startswith("evt-") and not q["name"].endswith(".retry"))
                  or q["name"] == "sentiment.mentions")


def settled_queues(vhost: str, timeout: float = 120.0) -> list[str]:
    """The consumed queues once every service declared its own and the list stopped growing
    (consumers declare their queues as they start, after /readyz may already answer)."""
    deadline = time.monotonic() + timeout
    last: list[str] = []
    while time.monotonic() < deadline:
        queues = consumed_queues(vhost)
        owners = {owner(q) for q in queues}
        if queues == last and owners >= {"liaison", "news", "review", "sentiment"}:
            return queues
        last = queues
        time.sleep(3.0)
    raise AssertionError(f"consumer queues never settled: {last}")


def queue_depth(vhost: str, name: str) -> int:
    r = requests.get(f"{MGMT}/queues/{vhost}/{requests.utils.quote(name, safe='')}",
                     auth=AUTH, timeout=10)
    return r.json().get("messages", 0) if r.status_code == 200 else 0


def poison(kind: str, queue: str, i: int) -> tuple[bytes, str]:
    """(body, content encoding) of one bad message of `kind` for `queue`."""
    event_type = queue.split("--")[0].split("-", 2)[-1] if queue.startswith("evt-") else ""
    if kind == "malformed":
        return b'{"id": "x", "type": ' + str(i).encode(), "utf-8"
    if kind == "encoding":  # GBK bytes announced as UTF-8
        return json.dumps({"text": f"投诉没人管 {i}"}, ensure_ascii=False).encode("gbk"), "utf-8"
    if kind == "oversized":  # 256 KiB, one JSON string (an envelope is well under 64 KiB)
        return json.dumps("噪" * (87 * 1024)).encode(), "utf-8"
    body = {"id": f"poison-{i}", "type": event_type or "sentiment.mention", "version": 99,
            "occurred_at": "2026-11-29T00:00:00Z", "producer": "poison",
            "correlation_id": f"poison-{i}", "causation_id": None, "tlp": "GREEN",
            "payload": {"text": "x"}}
    return json.dumps(body).encode(), "utf-8"


def send_poison(uri: str, queues: list[str]) -> Counter[str]:
    """POISON messages, kinds and queues round-robin; returns how many each service got."""
    per_service: Counter[str] = Counter()
    with kombu.Connection(uri, transport_options={"confirm_publish": True}) as conn:
        producer = kombu.Producer(conn.channel())
        for i in range(POISON):
            queue, kind = queues[i % len(queues)], KINDS[(i // len(queues)) % len(KINDS)]
            body, encoding = poison(kind, queue, i)
            producer.publish(body, exchange="", routing_key=queue, retry=True,
                             content_type="application/json", content_encoding=encoding,
                             delivery_mode=2, message_id=f"poison-{i}")
            per_service[owner(queue)] += 1
    return per_service


def owner(queue: str) -> str:
    """The consuming service of a queue: `evt-<source>-<type>--<service>.<method>`."""
    return queue.split("--", 1)[1].split(".", 1)[0] if "--" in queue else "sentiment"


def dead_letter_count(port: int, service: str) -> float:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(float(m.group(1)) for m in re.finditer(
        rf"^civicpulse_{service}_dead_letters_total\{{[^}}]*\}} ([0-9.e+]+)$", text, re.M))


def peek_dead_letters(uri: str, service: str) -> list[dict]:
    out = []
    with kombu.Connection(uri) as conn:
        q = kombu.Queue(dlq_name(service))(conn.channel())
        while (msg := q.get(no_ack=False)) is not None:
            out.append(dict(msg.headers or {}))
    return out  # unacked: back in the queue when the connection closes


def late_escalations(uri: str) -> list[str]:
    """Escalations of incidents with no ticket yet: retried once, then dead-lettered."""
    incidents = [f"late-{i}-{os.getpid()}" for i in range(LATE)]
    for inc in incidents:
        publish_event(uri, new_event("sentiment.incident.escalated", {
            "incident_id": inc, "topic": "legislation", "level": "II", "previous_level": "IV"},
            correlation_id=inc, tlp="AMBER"))
    return incidents


def open_tickets(uri: str, incidents: list[str]) -> None:
    for inc in incidents:
        publish_event(uri, new_event("sentiment.incident.detected", {
            "incident_id": inc, "topic": "legislation", "level": "IV",
            "detected_at": "2026-11-29T00:00:00+00:00", "negative_count": 12, "volume": 14,
            "negative_ratio": 0.8}, correlation_id=inc, tlp="AMBER"))


def test_poison_ends_in_dead_letter_queues_and_replay_brings_back_the_valid(suite, vhost_uri):
    running, env = suite
    vhost = vhost_uri.rsplit("/", 1)[1]
    queues = settled_queues(vhost)
    expected = send_poison(vhost_uri, queues)
    incidents = late_escalations(vhost_uri)
    expected["liaison"] += LATE

    def all_dead_lettered() -> bool:
        return all(queue_depth(vhost, dlq_name(s)) >= expected[s] for s in expected)

    wait_for(all_dead_lettered, timeout=300, every=2)
    consuming = {owner(q) for q in queues}  # identity consumes no events: it has no DLQ
    assert consuming >= {"liaison", "news", "review", "sentiment"}, consuming
    for svc in sorted(consuming):
        assert queue_depth(vhost, dlq_name(svc)) == expected[svc], svc
        port = running.of(svc)[0].http_port
        assert dead_letter_count(port, svc) == expected[svc], f"{svc} metrics"
        letters = peek_dead_letters(vhost_uri, svc)
        assert all(h.get(H_REASON) and h.get(H_QUEUE) for h in letters), svc
    assert not running.deaths, [d.describe() for d in running.deaths]
    assert all(r.alive() for r in running.replicas)

    open_tickets(vhost_uri, incidents)
    token = staff_token(env, "poison-reader", "principal")
    port = running.of("liaison")[0].http_port

    def tickets() -> list[dict]:
        r = requests.get(f"http://127.0.0.1:{port}/tickets", timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
        return [t for t in r.json()["tickets"] if t["incident_id"] in incidents]

    wait_for(lambda: len(tickets()) == LATE, timeout=120)
    assert {t["level"] for t in tickets()} == {"IV"}
    out = subprocess.run([sys.executable, "-m", "civicpulse.cli", "dlq", "replay", "liaison"],
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    wait_for(lambda: {t["level"] for t in tickets()} == {"II"}, timeout=120)
    # the poison replayed alongside is dead-lettered again; nothing else is
    wait_for(lambda: queue_depth(vhost, dlq_name("liaison")) == expected["liaison"] - LATE,
             timeout=120, every=1)
    assert not running.deaths
