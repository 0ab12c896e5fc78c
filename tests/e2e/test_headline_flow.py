"""The headline flow with all four services as real processes on RabbitMQ and PostgreSQL."""

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from civicpulse.settings import SERVICES
from civicpulse_demo import bearer, get_json, negative_burst, run_flow, url

pytestmark = pytest.mark.e2e

EXPECTED_KINDS = {"ticket.opened", "shared", "statement.requested", "statement.submitted",
                  "review.opened", "review.stage_approved", "review.approved",
                  "statement.published"}


def test_headline_flow_across_four_processes(running_suite, suite_env):
    flow = run_flow(timeout=120)

    tickets = get_json("liaison", f"/tickets?incident_id={flow.incident_id}",
                       flow.reader)["tickets"]
    assert len(tickets) == 1, "exactly one ticket per incident"

    assert flow.partner_event is not None
    assert flow.partner_event["type"] == "liaison.ticket.opened"
    assert flow.partner_event["tlp"] == "AMBER"
    assert flow.partner_event["correlation_id"] == flow.incident_id

    items = get_json("news", f"/items?correlation_id={flow.incident_id}", flow.reader)["items"]
    assert [i["status"] for i in items] == ["published"], "the statement is published once"
    site = Path(suite_env["CIVICPULSE_VAR_DIR"]) / "site" / f"{items[0]['id']}.html"
    assert site.exists()

    timeline = flow.ticket["timeline"]
    kinds = Counter(e["kind"] for e in timeline)
    assert set(kinds) >= EXPECTED_KINDS, f"timeline lacks {EXPECTED_KINDS - set(kinds)}"
    assert kinds["review.stage_approved"] == 3
    assert kinds["statement.published"] == 1


def test_redelivered_burst_opens_no_second_ticket(running_suite, suite_env):
    flow = run_flow(timeout=120)
    again = requests.post(url("sentiment", "/mentions"), json=negative_burst(flow.run_id),
                          headers=bearer(flow.creds.collector), timeout=10).json()
    assert again["accepted"] == 0 and again["duplicates"] == len(negative_burst(flow.run_id))
    assert again["incidents"] == []
    tickets = get_json("liaison", f"/tickets?incident_id={flow.incident_id}",
                       flow.reader)["tickets"]
    assert len(tickets) == 1


def test_demo_in_embedded_mode(tmp_path, monkeypatch):
    """`civicpulse demo` starts an embedded suite itself and checks the share log."""
    from tests.e2e.conftest import free_port

    env = {**os.environ, "CIVICPULSE_VAR_DIR": str(tmp_path / "var"),
           "AMQP_URI": "amqp://guest:guest@127.0.0.1:5999/"}
    for svc in SERVICES:  # every service on a port of its own (none on the defaults)
        env[f"{svc.upper()}_HTTP_PORT"] = str(free_port())
        env.pop(f"{svc.upper()}_DATABASE_URL", None)
    env.pop("NOTIFY_SMTP_HOST", None)
    env["NOTIFY_DIGEST_AT"] = "off"  # only the flow's mails in var/notify-mail
    out = subprocess.run([sys.executable, "-m", "civicpulse.cli", "demo", "--timeout", "120"],
                         env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("demo: ok"), last
    assert "embedded mode: no outside partner can connect" in out.stdout
    # no SMTP relay in embedded mode: the e-mails are .eml files, the inbox has the rest
    line = re.search(r"notifications: (\d+) sent \(email (\d+), robot (\d+), inbox (\d+)\)",
                     out.stdout)
    assert line, out.stdout[-2000:]
    total, mails, robots, inbox = map(int, line.groups())
    assert mails > 0 and inbox > 0 and robots == 0 and total == mails + inbox
    assert len(list((tmp_path / "var" / "notify-mail").glob("*.eml"))) == mails


def test_make_run_falls_back_to_embedded_and_stops_on_ctrl_c(tmp_path):
    import signal
    import time

    from tests.e2e.conftest import free_port

    env = {**os.environ, "CIVICPULSE_VAR_DIR": str(tmp_path / "var"),
           "AMQP_URI": "amqp://guest:guest@127.0.0.1:5999/"}
    ports = {}
    for svc in SERVICES:  # every service on a port of its own (none on the defaults)
        ports[svc] = free_port()
        env[f"{svc.upper()}_HTTP_PORT"] = str(ports[svc])
        env.pop(f"{svc.upper()}_DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "civicpulse.cli", "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 90
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("run: ready.") or time.monotonic() > deadline:
            break
    text = "".join(lines)
    assert "EMBEDDED single-process mode" in text and "Partners cannot subscribe" in text
    assert "CivicPulse is running" in text and "mode      embedded" in text
    assert "civicpulse users add NAME --role admin" in text
    assert f"http://127.0.0.1:{ports['liaison']}/" in text
    health = requests.get(f"http://127.0.0.1:{ports['liaison']}/readyz", timeout=5).json()
    assert health["transport"] == "memory"
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, rest[-2000:]
    assert "run: stopped." in rest
    for noise in ("DeprecationWarning", "Eventlet is deprecated", "pkg_resources",
                  "setup plugin alembic"):
        assert noise not in text + rest, noise
