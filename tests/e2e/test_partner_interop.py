"""Partners integrate from any stack: after the demo's flow (incident → ticket → statement
published) three agencies are given access with the real `civicpulse partners add` command and
each connects with exactly what it printed, through a different client: Debian's `amqp-consume`
(rabbitmq-c), the Node.js example (amqplib from npm, examples/node/) and the Python example
(pika, examples/python/). Each receives the shared events, acks them (its queue is empty
afterwards) and is refused another agency's queue; every event received validates against the
AsyncAPI catalogue liaison serves to partners; the acknowledgement examples (Python and
Node.js) put their notes on the ticket."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pika
import pytest
import requests
from click.testing import CliRunner

from civicpulse_demo import run_flow, url
from services.identity.cli import users
from services.liaison.cli import partners
from tests.helpers import json_values, wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "examples" / "node"
CLIENTS = {"govpress": "amqp-consume", "media": "node", "propaganda": "python"}


def partners_add(agency: str) -> dict[str, str]:
    """Run the command a deployer runs (in-process: the same click command, without 10 s of
    interpreter start on a loaded machine) and keep every `name: value` line it printed."""
    result = CliRunner().invoke(partners, ["add", agency])
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)


def consume(client: str, creds: dict[str, str], count: int, queue: str | None = None
            ) -> subprocess.CompletedProcess[str]:
    queue = queue or creds["queue"]
    if client == "amqp-consume":
        cmd = ["amqp-consume", f"--url={creds['amqp_uri']}", "-q", queue, "-c", str(count),
               "cat"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    script = [shutil.which("node") or "node", str(NODE / "consume.js")] if client == "node" \
        else [sys.executable, str(ROOT / "examples" / "python" / "consume.py")]
    env = {**os.environ, "CIVICPULSE_AMQP_URI": creds["amqp_uri"], "CIVICPULSE_QUEUE": queue,
           "IDLE_SECONDS": "2"}
    return subprocess.run(script, capture_output=True, text=True, timeout=30, check=False,
                          env=env)


def staff_token(name: str, role: str) -> str:
    result = CliRunner().invoke(users, ["add", name, "--role", role])
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1].strip()


def shares_of(ticket: dict[str, Any], agency: str) -> set[str]:
    return {s["event_id"] for s in ticket["shares"] if s["agency"] == agency}


def staff(method: str, path: str, token: str, body: Any = None) -> Any:
    r = requests.request(method, url("liaison", path), json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert r.status_code < 300, r.text
    return r.json()


def fetch_catalogue(token: str) -> dict[str, Any]:
    """The AsyncAPI document as a partner gets it: with its token, and not without."""
    assert requests.get(url("liaison", "/partner/catalogue"), timeout=10).status_code == 401
    r = requests.get(url("liaison", "/partner/catalogue"), timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["asyncapi"] == "3.0.0" and doc["servers"]["broker"]["protocol"] == "amqp"
    return doc


def queue_is_empty(creds: dict[str, str]) -> bool:
    with pika.BlockingConnection(pika.URLParameters(creds["amqp_uri"])) as conn:
        method, _, _ = conn.channel().basic_get(creds["queue"], auto_ack=False)
        return method is None  # unacked would be requeued when the connection closes


def test_non_python_clients_consume_with_what_partners_add_printed(running_suite: Any) -> None:
    assert (NODE / "node_modules" / "amqplib").is_dir(), "run scripts/install-system-deps.sh"
    flow = run_flow(timeout=180)  # its deadline also covers three `users add` processes
    tid = flow.ticket["id"]
    leader = staff_token(f"interop-{flow.run_id}", "leader_in_charge")
    for agency in CLIENTS:
        if agency not in flow.ticket["agencies"]:
            staff("POST", f"/tickets/{tid}/agencies", leader, {"agency": agency})

    def published_everywhere() -> dict[str, Any] | None:
        t = staff("GET", f"/tickets/{tid}", leader)
        done = all(any(s["agency"] == a and s["event_type"] == "liaison.statement.published"
                       for s in t["shares"]) for a in CLIENTS)
        return t if done else None

    ticket = wait_for(published_everywhere, timeout=60)
    creds = {agency: partners_add(agency) for agency in CLIENTS}
    for agency, c in creds.items():
        assert c["amqp_uri"].endswith("/" + c["vhost"].replace("/", "%2F"))
        assert c["amqp_uri"].startswith("amqp://partner-") and c["queue"] == f"partner.{agency}"

    catalogue = fetch_catalogue(creds["govpress"]["token"])
    for agency, client in CLIENTS.items():
        expected = shares_of(ticket, agency)
        out = consume(client, creds[agency], len(expected))
        assert out.returncode == 0, f"{client}: {out.stderr[-1500:]}"
        got = json_values(out.stdout)
        assert {e["id"] for e in got} == expected, client
        assert {"liaison.ticket.opened", "liaison.statement.published"} <= {
            e["type"] for e in got}
        assert all(e["tlp"] in ("AMBER", "GREEN", "CLEAR") for e in got)
        for event in got:  # every real event is described by the published catalogue
            message = catalogue["components"]["messages"][f"{event['type']}.v{event['version']}"]
            jsonschema.validate(event, {**message["payload"],
                                        "components": catalogue["components"]})
        assert queue_is_empty(creds[agency]), f"{client} did not ack"

        other = next(a for a in CLIENTS if a != agency)
        refused = consume(client, creds[agency], 1, queue=f"partner.{other}")
        assert refused.returncode != 0, client
        assert "ACCESS_REFUSED" in refused.stderr or "403" in refused.stderr, refused.stderr

    env = {**os.environ, "CIVICPULSE_URL": url("liaison", ""),
           "CIVICPULSE_TOKEN": creds["govpress"]["token"]}
    py = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "ack.py"), tid],
                        env=env, capture_output=True, text=True, timeout=30, check=False)
    assert py.returncode == 0, py.stderr
    env["CIVICPULSE_TOKEN"] = creds["media"]["token"]
    js = subprocess.run(["node", str(NODE / "ack.js"), tid, "已安排融媒体同步转发"], env=env,
                        capture_output=True, text=True, timeout=30, check=False)
    assert js.returncode == 0, js.stderr
    timeline = staff("GET", f"/tickets/{tid}", leader)["timeline"]
    notes = {(e["kind"], e["author"]) for e in timeline}
    assert {("partner.ack", "partner:govpress"), ("partner.comment", "partner:media")} <= notes
