"""The review service over its real HTTP API, on the real RabbitMQ (a fresh vhost per test) and
PostgreSQL: every separation-of-duties rule answered with the right status, blocking pre-check
findings, the audit export, and an expedited statement that goes overdue once and escalates."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kombu
import pytest
import requests

from civicpulse.db import UnitOfWork, make_engine, session_factory
from civicpulse.envelope import Envelope, new_event
from services.identity import accounts
from services.review.service import ReviewService
from tests.conftest import Identity
from tests.helpers import publish_event as publish
from tests.helpers import wait_for

pytestmark = pytest.mark.integration
OK = {"accuracy": True, "orientation": True, "format": True}
WORKFLOWS = """
reference: {prefix: RD, timezone: Asia/Shanghai}
workflows:
  default: {stages: [section_head, leader_in_charge, principal]}
  expedited:
    stages: [section_head, leader_in_charge, principal]
    deadline_seconds: {section_head: 1, leader_in_charge: 1, principal: 1}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def review(identity: Identity, container_factory: Any, rabbit_config: dict[str, Any],
           pg_database: str,
           tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rabbitmq: str
           ) -> Iterator[dict[str, Any]]:
    workflows = tmp_path / "workflows.yaml"
    workflows.write_text(WORKFLOWS, encoding="utf-8")
    monkeypatch.setenv("REVIEW_CONFIG", str(workflows))
    monkeypatch.setenv("REVIEW_DATABASE_URL", pg_database)
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CIVICPULSE_RELAY_POLL_SECONDS", "0.1")
    monkeypatch.setenv("REVIEW_OVERDUE_SWEEP_SECONDS", "0.25")
    port = free_port()
    container = container_factory(ReviewService, {
        **rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    sessions = session_factory(make_engine(pg_database))
    yield {"uri": rabbit_config["AMQP_URI"], "url": f"http://127.0.0.1:{port}",
           "uow": lambda: UnitOfWork(sessions, "review"), "identity": identity}
    container.stop()


def submitted(item_id: str, workflow: str = "default", author: str = "editor-li",
              body: str = "<p>经核实，系统升级导致部分来信回复延迟，现已恢复。</p>") -> Envelope:
    return new_event("news.item.submitted", {
        "item_id": item_id, "revision": 1, "kind": "statement",
        "title": "关于代表信箱回复延迟的情况说明", "body": body, "author": author,
        "content_hash": "e" * 64, "workflow": workflow}, correlation_id=f"corr-{item_id}",
        tlp="AMBER")


class Api:
    """The review HTTP API; reads carry the token of an editor made for the purpose."""

    def __init__(self, review: dict[str, Any]) -> None:
        self.url = review["url"]
        self.reader = {"Authorization": f"Bearer {add(review, 'api-reader', 'editor')}"}

    def case_for(self, correlation_id: str) -> dict[str, Any]:
        def find() -> Any:
            r = requests.get(f"{self.url}/cases", params={"correlation_id": correlation_id},
                             headers=self.reader, timeout=5)
            return r.json()["cases"]
        return wait_for(find)[0]

    def get(self, case_id: str) -> dict[str, Any]:
        return requests.get(f"{self.url}/cases/{case_id}", headers=self.reader,
                            timeout=5).json()

    def decide(self, case_id: str, token: str | None, decision: str = "approve",
               comment: str | None = None, checklist: dict[str, bool] | None = None
               ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        body = {"decision": decision, "comment": comment,
                "checklist": (OK if decision == "approve" else None) if checklist is None
                else checklist}
        r = requests.post(f"{self.url}/cases/{case_id}/decisions", json=body, headers=headers,
                          timeout=5)
        return r.status_code, r.json()


def add(review: dict[str, Any], name: str, role: str) -> str:
    """A staff account in the identity service, which review asks about every token."""
    return review["identity"].add(name, role)


def test_every_separation_of_duties_rule_over_http(review: dict[str, Any]) -> None:
    api = Api(review)
    t = {n: add(review, n, r) for n, r in [
        ("wang", "section_head"), ("qian", "leader_in_charge"), ("zhao", "principal"),
        ("editor-li", "section_head"), ("sun", "editor"), ("gone", "section_head")]}
    review["identity"].disable("gone")
    publish(review["uri"], submitted("itm-sod"))
    case = api.case_for("corr-itm-sod")
    assert (case["stage"], case["status"]) == ("section_head", "open")
    cid = case["id"]

    # missing, malformed, unknown and disabled tokens: 401
    assert api.decide(cid, None)[0] == 401
    assert requests.post(f"{review['url']}/cases/{cid}/decisions", json={"decision": "approve"},
                         headers={"Authorization": "Basic abc"}, timeout=5).status_code == 401
    assert api.decide(cid, "not-a-token")[0] == 401
    status, body = api.decide(cid, t["gone"])
    assert status == 401 and "error" in body
    # the author never reviews their own item, even holding the stage's role
    status, body = api.decide(cid, t["editor-li"])
    assert status == 403 and "author" in body["error"]
    # each stage needs its role
    for who in ("qian", "zhao", "sun"):
        status, body = api.decide(cid, t[who])
        assert status == 403 and "role" in body["error"], who
    # return and reject need a comment; approval needs the whole checklist
    assert api.decide(cid, t["wang"], "return")[0] == 400
    assert api.decide(cid, t["wang"], "reject", comment="  ")[0] == 400
    assert api.decide(cid, t["wang"], checklist={"accuracy": True, "orientation": True})[0] == 400
    assert api.decide("case-missing", t["wang"])[0] == 404

    status, body = api.decide(cid, t["wang"])
    assert status == 200 and body["stage"] == "leader_in_charge"
    # one person never approves two stages of one case (wang promoted meanwhile)
    accounts.update(review["identity"].uow(), "wang", {"role": "leader_in_charge"})
    status, body = api.decide(cid, t["wang"])
    assert status == 403 and "two stages" in body["error"]
    assert api.decide(cid, t["qian"])[0] == 200
    status, body = api.decide(cid, t["zhao"])
    assert status == 200 and body["status"] == "approved" and body["reference_no"].startswith("RD-")
    # a decided case is closed
    for decision, comment in (("approve", None), ("return", "再改"), ("reject", "不发")):
        status, body = api.decide(cid, t["zhao"], decision, comment)
        assert status == 409 and "approved" in body["error"]
    final = api.get(cid)
    assert [(d["stage"], d["reviewer"]) for d in final["decisions"]] == [
        ("section_head", "wang"), ("leader_in_charge", "qian"), ("principal", "zhao")]

    # the audit log: only staff may export it; CSV and JSON
    assert requests.get(f"{review['url']}/audit", timeout=5).status_code == 401
    auth = {"Authorization": f"Bearer {t['sun']}"}
    entries = requests.get(f"{review['url']}/audit", params={"case_id": cid}, headers=auth,
                           timeout=5).json()["entries"]
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("editor-li", "submitted"), ("wang", "approve"), ("qian", "approve"), ("zhao", "approve")]
    assert all(e["content_hash"] == "e" * 64 for e in entries)
    csv_text = requests.get(f"{review['url']}/audit", params={"format": "csv"}, headers=auth,
                            timeout=5).text
    assert len(csv_text.strip().splitlines()) == 5


def test_a_rejected_or_returned_case_is_closed_and_blocking_findings_answer_422(
        review: dict[str, Any]) -> None:
    api = Api(review)
    wang = add(review, "wang", "section_head")
    qian = add(review, "qian", "leader_in_charge")
    publish(review["uri"], submitted("itm-bad", body="<p>内部资料</p><a href='javascript:x'>x</a>"))
    case = api.get(api.case_for("corr-itm-bad")["id"])
    assert case["blocked"] and {f["rule"] for f in case["findings"]} == {"lexicon",
                                                                         "malformed_link"}
    status, body = api.decide(case["id"], wang)
    assert status == 422 and len(body["findings"]) == 2
    assert api.decide(case["id"], wang, "reject", "含涉密标识，不予发布")[0] == 200
    assert api.decide(case["id"], wang, "reject", "again")[0] == 409

    publish(review["uri"], submitted("itm-ret"))
    cid = api.case_for("corr-itm-ret")["id"]
    assert api.decide(cid, wang)[0] == 200
    status, body = api.decide(cid, qian, "return", "请补充处置进展")
    assert status == 200 and body["status"] == "returned"
    assert api.decide(cid, qian)[0] == 409


def test_an_expedited_statement_goes_overdue_once_and_escalates(review: dict[str, Any]) -> None:
    api = Api(review)
    for name, role in [("wang", "section_head"), ("chen", "section_head"),
                       ("zhao", "principal"), ("qian", "leader_in_charge")]:
        add(review, name, role)
    with kombu.Connection(review["uri"]) as conn:
        queue = kombu.Queue("test-review-overdue", kombu.Exchange(
            "review.events", type="topic", durable=True), routing_key="review.stage.overdue",
            channel=conn.channel())
        queue.declare()
        publish(review["uri"], submitted("itm-exp", workflow="expedited"))
        case = api.case_for("corr-itm-exp")
        assert case["workflow"] == "expedited" and case["stage_due_at"]

        first = wait_for(lambda: queue.get(no_ack=True), timeout=10)
        time.sleep(1.5)  # several more sweeps: the stage must not be reported again
        assert queue.get(no_ack=True) is None
    event = json.loads(first.body)
    assert event["type"] == "review.stage.overdue" and event["correlation_id"] == "corr-itm-exp"
    assert event["payload"]["case_id"] == case["id"]
    assert event["payload"]["stage"] == "section_head"
    assert event["payload"]["escalated_to"] == ["chen", "wang", "zhao"]
    full = api.get(case["id"])
    [esc] = full["escalations"]
    assert esc["stage"] == "section_head" and esc["notified"] == ["chen", "wang", "zhao"]
    assert [a["action"] for a in full["audit"]] == ["submitted", "overdue"]
    metrics = requests.get(f"{review['url']}/metrics", timeout=5).text
    assert 'civicpulse_review_stages_overdue_total{stage="section_head"}' in metrics
