"""Webhook delivery end to end: two liaison processes on the real broker and PostgreSQL, and two
agencies' HTTPS receivers as processes of their own (tests/webhook_receiver.py), with a CA and a
certificate the test makes and liaison trusts through CIVICPULSE_WEBHOOK_CA_BUNDLE.

cac's receiver refuses the first two POSTs (503) and then takes everything: every event cac is
entitled to arrives byte for byte as on its queue partner.cac (same ids; the ticket's RED
escalation neither place), each signature verifies, each event once although two senders run,
and cac's delivery log shows the two failed attempts and the successes. propaganda's receiver
never accepts: its deliveries end dead-lettered after the (shortened) bound, with the reason.
Neither agency can read the other's log (403); agencies without a webhook get no deliveries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import kombu
import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import create_engine, insert, select, update

from civicpulse import credentials
from civicpulse.envelope import new_event, utcnow
from civicpulse.launcher import Suite
from services.liaison import db as liaison_db
from services.liaison.cli import liaison_session, partners
from services.liaison.partner_accounts import hash_token
from tests.conftest import ROOT
from tests.e2e.conftest import MGMT, free_port, print_logs
from tests.helpers import publish_event, wait_for
from tests.integration.test_deploy import tool
from tests.integration.tls_broker import make_ca_and_server_cert

pytestmark = pytest.mark.e2e
DEAD_AFTER = 6.0
REFUSE = {"cac": 2, "propaganda": -1}  # -1: never accepts


def webhook(agency: str, url: str) -> str:
    """`civicpulse partners webhook AGENCY URL` (in-process: the same click command)."""
    result = CliRunner().invoke(partners, ["webhook", agency, url])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert lines["webhook_url"] == url
    return lines["webhook_secret"]


def partner_token(agency: str) -> str:
    token = credentials.issue("partner")
    with liaison_session() as s:
        s.execute(insert(liaison_db.partner_accounts).values(
            agency=agency, amqp_user=f"partner-{agency}", token_sha256=hash_token(token),
            created_at=utcnow()))
    return token


@pytest.fixture
def world(vhost_uri: str, pg_database_factory: Any, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    tool("openssl")
    certs = make_ca_and_server_cert(tmp_path)
    env = {"AMQP_URI": vhost_uri, "CIVICPULSE_VAR_DIR": str(tmp_path / "var"),
           "LIAISON_DATABASE_URL": pg_database_factory("cp_e2e_liaison"),
           "LIAISON_HTTP_PORT": str(free_port()),
           "CIVICPULSE_WEBHOOK_CA_BUNDLE": str(certs["ca"]),
           "CIVICPULSE_WEBHOOK_DEAD_AFTER_SECONDS": str(DEAD_AFTER),
           "CIVICPULSE_WEBHOOK_BACKOFF_BASE_SECONDS": "0.2",
           "CIVICPULSE_WEBHOOK_BACKOFF_CAP_SECONDS": "1", "CIVICPULSE_WEBHOOK_POLL_SECONDS": "0.2"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    refused = CliRunner().invoke(partners, ["webhook", "cac", "http://localhost:1/x"])
    assert refused.exit_code != 0 and "https://" in refused.output
    w: dict[str, Any] = {"env": env, "tokens": {}, "secrets": {}, "out": {}, "procs": []}
    suite = Suite()
    try:
        for agency, refuse in REFUSE.items():
            port = free_port()
            w["secrets"][agency] = webhook(agency, f"https://localhost:{port}/hooks/civicpulse")
            w["tokens"][agency] = partner_token(agency)
            w["out"][agency] = tmp_path / f"{agency}.jsonl"
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.webhook_receiver", str(port),
                 str(certs["server"]), str(certs["key"]), w["secrets"][agency],
                 str(w["out"][agency]), str(refuse)], cwd=ROOT, text=True,
                stdout=subprocess.PIPE)
            w["procs"].append(proc)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        suite.start("processes", env=env, log_dir=tmp_path / "logs", services=["liaison"],
                    replicas={"liaison": 2})
        suite.wait_ready(timeout=120)
        w["ports"] = [r.http_port for r in suite.replicas]
        wait_for(lambda: consumers(vhost_uri) >= 4, timeout=60)
        yield w
    except Exception:
        print_logs(tmp_path / "logs")
        raise
    finally:
        suite.stop()
        for proc in w["procs"]:
            proc.kill()
            proc.wait(timeout=10)


def consumers(amqp_uri: str) -> int:
    """Consumers of the two queues the test publishes to (both replicas: 4); /readyz does not
    wait for them, and an event published before its queue is bound is unroutable."""
    vhost = amqp_uri.rsplit("/", 1)[1]
    try:
        queues = requests.get(f"{MGMT}/queues/{vhost}", auth=("guest", "guest"),
                              timeout=5).json()
    except (requests.RequestException, ValueError):
        return 0
    wanted = ("sentiment.incident.detected--liaison", "news.item.published--liaison")
    return sum(q.get("consumers", 0) for q in queues if any(w in q["name"] for w in wanted))


def detected(incident: str, level: str) -> Any:
    return new_event("sentiment.incident.detected", {
        "incident_id": incident, "topic": "deputies", "level": level,
        "detected_at": utcnow().isoformat(), "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=incident, tlp="AMBER")


def published(incident: str) -> Any:
    return new_event("news.item.published", {
        "item_id": "itm-wh-1", "revision": 1, "kind": "statement", "title": "关于网传情况的说明",
        "channels": ["website"], "urls": [], "reference_no": None, "ticket_id": None},
        correlation_id=incident, tlp="GREEN")


def log_of(w: dict[str, Any], agency: str, query: str = "", as_: str | None = None
           ) -> requests.Response:
    port = w["ports"][0]
    return requests.get(f"http://127.0.0.1:{port}/partner/webhook/deliveries{query}",
                        headers={"Authorization": f"Bearer {w['tokens'][as_ or agency]}"},
                        timeout=10)


def received(w: dict[str, Any], agency: str) -> list[dict[str, Any]]:
    path = w["out"][agency]
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def drain(uri: str, queue: str) -> list[str]:
    out = []
    with kombu.Connection(uri) as conn:
        q = kombu.Queue(queue)(conn.channel())
        while (m := q.get(no_ack=True)) is not None:
            out.append(m.body.decode() if isinstance(m.body, bytes) else m.body)
    return out


def red_escalation(db_url: str, incident: str) -> list[str]:
    """Move the ticket's acknowledge deadline into the past: the deadline scan escalates to
    the leader in charge with a RED event (withheld from every partner). Its ids."""
    engine = create_engine(db_url)
    t, d, se = liaison_db.tickets, liaison_db.deadlines, liaison_db.shared_events
    past = utcnow() - timedelta(minutes=5)
    with engine.begin() as conn:
        tid = conn.execute(select(t.c.id).where(t.c.incident_id == incident)).scalar_one()
        conn.execute(update(t).where(t.c.id == tid).values(acknowledge_due_at=past))
        conn.execute(update(d).where(d.c.ticket_id == tid, d.c.kind == "acknowledge")
                     .values(due_at=past))

    def red_ids() -> list[str]:
        with engine.connect() as conn:
            return list(conn.execute(select(se.c.event_id).where(
                se.c.ticket_id == tid, se.c.tlp == "RED")).scalars())

    try:
        return wait_for(red_ids, timeout=30)
    finally:
        engine.dispose()


def metric(w: dict[str, Any], name: str, labels: str) -> float:
    """The sum over both replicas of one series."""
    total = 0.0
    for port in w["ports"]:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        pattern = re.escape(name) + r"\{" + labels + r"\} ([0-9.e+]+)"
        total += sum(float(v) for v in re.findall(pattern, text))
    return total


def test_webhooks_deliver_what_the_queue_gets_retry_and_dead_letter(world: dict[str, Any]
                                                                    ) -> None:
    w, uri = world, world["env"]["AMQP_URI"]
    publish_event(uri, detected("inc-wh-a", "IV"))   # AMBER to cac
    # one after the other: cac's first delivery is then the oldest, and takes both refusals
    wait_for(lambda: len(log_of(w, "cac").json()["deliveries"]) == 1, timeout=60)
    publish_event(uri, detected("inc-wh-b", "III"))  # AMBER to cac and propaganda
    wait_for(lambda: len(log_of(w, "cac").json()["deliveries"]) == 2, timeout=60)
    red = red_escalation(w["env"]["LIAISON_DATABASE_URL"], "inc-wh-a")
    publish_event(uri, published("inc-wh-a"))        # GREEN to every agency

    def cac_done() -> list[dict[str, Any]] | None:
        rows = log_of(w, "cac").json()["deliveries"]
        return rows if len(rows) == 3 and all(r["status"] == "delivered" for r in rows) \
            else None

    deliveries = wait_for(cac_done, timeout=60)
    posts = received(w, "cac")
    assert [p["outcome"] for p in posts] == ["refused", "refused", "accepted", "accepted",
                                             "accepted"]  # every signature verified
    accepted = [p for p in posts if p["outcome"] == "accepted"]
    ids = [json.loads(p["body"])["id"] for p in accepted]
    assert len(set(ids)) == 3  # each once, though two senders run
    assert all(p["headers"]["webhook-id"] == json.loads(p["body"])["id"] for p in accepted)

    queue = wait_for(lambda: drain(uri, "partner.cac"), timeout=30)
    while len(queue) < 3:
        queue += wait_for(lambda: drain(uri, "partner.cac"), timeout=30)
    assert sorted(queue) == sorted(p["body"] for p in accepted)  # byte for byte
    assert {json.loads(b)["type"] for b in queue} == {"liaison.ticket.opened",
                                                       "liaison.statement.published"}
    assert red and not set(red) & set(ids)  # the RED escalation: in neither place
    assert not any(json.loads(b)["tlp"] == "RED" for b in queue)

    tries = sorted((a for d in deliveries for a in d["attempt_log"]), key=lambda a: a["at"])
    assert [(a["outcome"], a["http_status"]) for a in tries] == [
        ("failed", 503), ("failed", 503), ("delivered", 204), ("delivered", 204),
        ("delivered", 204)]
    first = next(d for d in deliveries if len(d["attempt_log"]) == 3)
    assert [a["outcome"] for a in first["attempt_log"]] == ["failed", "failed", "delivered"]
    assert "HTTP 503" in first["attempt_log"][0]["error"]

    def propaganda_dead() -> list[dict[str, Any]] | None:
        rows = log_of(w, "propaganda").json()["deliveries"]
        return rows if len(rows) == 2 and all(r["status"] == "dead" for r in rows) else None

    dead = wait_for(propaganda_dead, timeout=60)
    assert all("HTTP 503" in d["last_error"] and ("gave up after" in d["last_error"]
                                                  or "expired unsent" in d["last_error"])
               for d in dead)
    assert any(d["attempt_log"] and d["attempt_log"][-1]["outcome"] == "dead" for d in dead)
    assert all(p["outcome"] == "refused" for p in received(w, "propaganda"))
    assert metric(w, "civicpulse_liaison_webhook_deliveries_total",
                  'agency="propaganda",outcome="dead"') == 2
    assert metric(w, "civicpulse_liaison_webhook_deliveries_total",
                  'agency="cac",outcome="delivered"') == 3

    # each agency reads its own log only
    assert log_of(w, "cac", "?agency=propaganda").status_code == 403
    own = log_of(w, "propaganda").json()
    assert {d["agency"] for d in own["deliveries"]} == {"propaganda"}
    assert w["secrets"]["propaganda"] not in json.dumps(own)  # the secret is never shown again
    port = w["ports"][1]
    other = requests.get(f"http://127.0.0.1:{port}/partner/webhook/deliveries/{dead[0]['id']}",
                         headers={"Authorization": f"Bearer {w['tokens']['cac']}"}, timeout=10)
    assert other.status_code == 403, other.text
    assert requests.get(f"http://127.0.0.1:{port}/partner/webhook/deliveries",
                        timeout=10).status_code == 401
    engine = create_engine(w["env"]["LIAISON_DATABASE_URL"])
    with engine.connect() as conn:  # media and govpress got the GREEN statement, no webhook
        agencies = set(conn.execute(select(liaison_db.webhook_deliveries.c.agency)).scalars())
    engine.dispose()
    assert agencies == {"cac", "propaganda"}
