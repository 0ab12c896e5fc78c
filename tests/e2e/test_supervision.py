"""`make run` supervises, and runs replicas: two liaison processes on the real broker share the
incoming events; one SIGKILLed is reported (which one, how it died) and comes back."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
import requests

from civicpulse.envelope import Envelope, new_event
from civicpulse.launcher import Replica, Suite
from tests.helpers import publish_event, wait_for

pytestmark = pytest.mark.e2e
CONSUMED = re.compile(r'civicpulse_liaison_events_consumed_total\{event_type="sentiment.incident.'
                      r'detected"\} (\d+)')


def detected(incident: str) -> Envelope:
    return new_event("sentiment.incident.detected", {
        "incident_id": incident, "topic": "deputies", "level": "IV",
        "detected_at": "2025-03-01T09:00:00+00:00", "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=incident, tlp="AMBER")


def consumed(replica: Replica) -> int:
    try:
        text = requests.get(f"http://127.0.0.1:{replica.http_port}/metrics", timeout=5).text
    except requests.RequestException:
        return -1
    match = CONSUMED.search(text)
    return int(float(match.group(1))) if match else 0


def incident_consumers(amqp_uri: str) -> int:
    """Consumers on liaison's incident-detected queue, as the broker's management API counts them
    (/readyz now waits for a replica's own consumers — tests/integration/test_readiness.py; this
    also checks that both replicas consume the same queue before events are published)."""
    vhost = amqp_uri.rsplit("/", 1)[1]
    try:
        queues = requests.get(f"http://127.0.0.1:15672/api/queues/{vhost}",
                              auth=("guest", "guest"), timeout=5).json()
    except (requests.RequestException, ValueError):
        return 0
    return sum(q.get("consumers", 0) for q in queues
               if q["name"].startswith("evt-sentiment-sentiment.incident.detected--liaison"))


def ready(replica: Replica) -> bool:
    try:
        url = f"http://127.0.0.1:{replica.http_port}/readyz"
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_replicas_share_the_work_and_a_killed_one_comes_back(suite_env: dict[str, str],
                                                             tmp_path: Path) -> None:
    reports: list[str] = []
    suite = Suite(report=reports.append)
    suite.start("processes", env=suite_env, log_dir=tmp_path / "logs", replicas={"liaison": 2},
                supervise=True, services=("liaison",))
    try:
        suite.wait_ready(timeout=120)
        first, second = suite.of("liaison")
        assert first.http_port != second.http_port
        wait_for(lambda: incident_consumers(suite_env["AMQP_URI"]) >= 2, timeout=60)
        for i in range(20):
            publish_event(suite_env["AMQP_URI"], detected(f"inc-share-{i}"))
        counts = wait_for(lambda: (c := (consumed(first), consumed(second)))
                          and sum(c) == 20 and c, timeout=120)
        assert min(counts) > 0, f"one replica did all the work: {counts}"

        killed = second.pid
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: second.restarts == 1 and ready(second), timeout=120)
        assert second.pid != killed and first.restarts == 0
        assert any(f"liaison-2 (pid {killed}) died: killed by SIGKILL" in r for r in reports)
        publish_event(suite_env["AMQP_URI"], detected("inc-after-restart"))
        # the restarted liaison-2 counts from zero
        wait_for(lambda: consumed(first) + consumed(second) == counts[0] + 1, timeout=60)
    except Exception:
        for log in sorted((tmp_path / "logs").glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-6000:]}")
        print("consumed:", consumed(suite.of("liaison")[0]), consumed(suite.of("liaison")[1]))
        raise
    finally:
        suite.stop()
    assert all(r.proc is not None and r.proc.poll() is not None for r in suite.replicas)
