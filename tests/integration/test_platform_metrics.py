"""The platform metrics are really set, in a service container on the real PostgreSQL and
RabbitMQ: HTTP requests by route and status, the outbox backlog (also while the broker is
down), the relay's batch time, inbox duplicates. The outbox-backlog alert is then run by
promtool on the very series a service exported."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from prometheus_client import REGISTRY

from civicpulse.access import PUBLIC, http
from civicpulse.db import UnitOfWork
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from tests.helpers import wait_until
from tests.integration import probe

pytestmark = pytest.mark.integration
PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
DEAD_BROKER = "amqp://guest:guest@127.0.0.1:5999/"


class MetricsProbe(OperationsEndpoints):
    name = "mprobe"
    platform = Platform("mprobe", probe.MIGRATIONS)

    @http("GET", "/things/<int:n>", access=PUBLIC)
    def thing(self, request: Any, n: int) -> tuple[int, dict[str, str], str]:
        return (200, {}, "ok") if n else (404, {}, "no such thing")

    @http("POST", "/boom", access=PUBLIC)
    def boom(self, request: Any) -> str:
        raise RuntimeError("boom")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(f"civicpulse_mprobe_{name}", labels)


def record(uow: UnitOfWork, n: int) -> None:
    with uow:
        for i in range(n):
            uow.publish(probe.incident(f"inc-m-{i}"))
        uow.commit()


def new_uow(container: Any) -> UnitOfWork:
    platform = next(d for d in container.dependencies if isinstance(d, Platform))
    return platform.handle.uow()


def start(container_factory: Any, amqp_uri: str) -> tuple[Any, str]:
    port = free_port()
    container = container_factory(MetricsProbe, {"AMQP_URI": amqp_uri,
                                                 "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    return container, f"http://127.0.0.1:{port}"


def test_metrics_are_set_and_the_backlog_alert_fires_on_the_real_series(
        container_factory, rabbit_config, pg_database, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MPROBE_DATABASE_URL", pg_database)
    container, url = start(container_factory, DEAD_BROKER)  # the relay cannot publish
    uow = new_uow(container)
    before_ok = sample("http_requests_total", route="GET /things/<int:n>", status="200") or 0
    for n in (1, 1, 0):
        requests.get(f"{url}/things/{n}", timeout=5)
    requests.post(f"{url}/boom", timeout=5)
    record(uow, 1001)
    exposition = requests.get(f"{url}/metrics", timeout=5).text
    # counted by the Platform's worker_result hook, which nameko runs just after the response
    assert wait_until(lambda: sample("http_requests_total", route="GET /things/<int:n>",
                                     status="200") == before_ok + 2, timeout=10)
    assert wait_until(lambda: (sample("http_requests_total", route="GET /things/<int:n>",
                                      status="404") or 0) >= 1, timeout=10)
    assert wait_until(lambda: (sample("http_requests_total", route="POST /boom",
                                      status="500") or 0) >= 1, timeout=10)
    line = re.search(r"^civicpulse_mprobe_outbox_pending_events (\S+)$", exposition, re.M)
    assert line and float(line.group(1)) == 1001
    assert_backlog_alert_fires(line.group(0), tmp_path)
    container.stop()

    # the broker is back: the backlog drains, each batch is timed, the gauge follows
    batches = sample("outbox_relay_batch_seconds_count") or 0
    container, url = start(container_factory, rabbit_config["AMQP_URI"])
    assert wait_until(lambda: sample("outbox_pending_events") == 0, timeout=60)
    assert sample("outbox_relay_batch_seconds_count") >= batches + 3  # 1001 in batches of 500
    uow = new_uow(container)
    event = probe.incident("inc-dup-metric")
    duplicates = sample("events_duplicate_total", event_type=event.type) or 0
    for _ in range(2):
        with uow:
            uow.first_time(event, "mprobe.test")
            uow.commit()
    assert sample("events_duplicate_total", event_type=event.type) == duplicates + 1
    container.stop()


def assert_backlog_alert_fires(exported: str, tmp_path: Path) -> None:
    """Feed the exported sample (name and value as scraped, plus Prometheus' job/instance
    labels) to the alert rules for 7 minutes: CivicPulseOutboxBacklog must fire."""
    promtool = shutil.which("promtool")
    if promtool is None:
        msg = "promtool is not installed (scripts/install-system-deps.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; required under CI=true")
        pytest.skip(msg)
    name, value = exported.split()
    series = f'{name}{{job="mprobe", instance="mprobe:1"}}'
    tests = {"rule_files": [str(PROM / "alerts.yml")], "evaluation_interval": "1m",
             "tests": [{"interval": "1m",
                        "input_series": [{"series": series, "values": f"{value}x7"}],
                        "alert_rule_test": [
                            {"eval_time": "3m", "alertname": "CivicPulseOutboxBacklog",
                             "exp_alerts": []},
                            {"eval_time": "7m", "alertname": "CivicPulseOutboxBacklog",
                             "exp_alerts": [{"exp_labels": {
                                 "severity": "warning", "job": "mprobe",
                                 "instance": "mprobe:1"}, "exp_annotations": {
                                 "summary": "CivicPulse mprobe outbox backlog",
                                 "description": f"{float(value):g} events of mprobe are "
                                 "committed but not yet published for 5 minutes. The outbox "
                                 "relay is stuck or RabbitMQ refuses/does not confirm "
                                 "publishes."}}]}]}]}
    path = tmp_path / "backlog_test.yml"
    path.write_text(yaml.safe_dump(tests))
    out = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
