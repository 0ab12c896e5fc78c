"""Notify on the real suite (liaison, review and notify as processes, real RabbitMQ and
PostgreSQL, an aiosmtpd server and local robot receivers as processes): an incident escalates
from IV to II while the ticket's acknowledge deadline breaches; the lead, the leader in charge
and the partner contacts each receive exactly the mails and robot messages the rules say, once
each, although notify is SIGKILLed mid-way and comes back; quiet hours hold back a non-urgent
message and not an escalation. Then a task given to the leader in charge and a partner
agency's comment reach exactly the people the rules name, once each."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import requests
import yaml

from civicpulse.envelope import new_event
from civicpulse.launcher import Suite
from civicpulse_demo import url
from services.liaison import config as liaison_config
from services.notify import handlers
from tests.conftest import make_uow
from tests.helpers import publish_event, wait_for
from tests.notify_sinks import Running, free_port, message

# five processes and a restart: minutes on a loaded 2-core machine, well under one when idle
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
INC = "inc-notify-e2e"
KEYS = {"wecom": "wk-e2e", "dingtalk": "SECe2e", "feishu": "fs-e2e"}
SH = ZoneInfo("Asia/Shanghai")


def fast_plans(path: Path) -> Path:
    """The shipped plan with IV→II deadlines in seconds: II's acknowledge falls due 12 s after
    the escalation; the leader in charge is told at once, the partners' leads 4 s later."""
    plans = yaml.safe_load((liaison_config.HERE / "plans.yaml").read_text(encoding="utf-8"))
    for level in plans["levels"].values():
        level["deadlines"] = {"acknowledge": 5, "first_response": 600, "resolve": 1440}
    for level in ("II", "I"):
        plans["levels"][level]["deadlines"]["acknowledge"] = 0.2
        plans["levels"][level]["escalation"] = [{"after": 0, "notify": "leader_in_charge"},
                                                {"after": 0.07, "notify": "partner_lead"}]
    path.write_text(yaml.safe_dump(plans, allow_unicode=True), encoding="utf-8")
    return path


def cli(*args: str) -> str:
    """A `civicpulse` command, run in-process (its output)."""
    from click.testing import CliRunner

    from services.identity.cli import users
    from services.notify.cli import notify

    group = {"users": users, "notify": notify}[args[0]]
    result = CliRunner().invoke(group, list(args[1:]), catch_exceptions=False)
    assert result.exit_code == 0, result.output[-2000:]
    return result.output


def quiet_now() -> str:
    """Quiet hours around the current local time."""
    now = datetime.now(SH)
    return f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=2)):%H:%M}"


def mails(smtp: Running) -> Counter[tuple[str, str]]:
    got: Counter[tuple[str, str]] = Counter()
    for m in smtp.received():
        subject = message(m)["Subject"]
        for rcpt in m["rcpt_tos"]:
            got[(rcpt, _kind(subject))] += 1
    return got


def _kind(subject: str) -> str:
    for marker, kind in (("【升级】", "escalated"), ("【督办】", "overdue"), ("【任务】", "task"),
                         ("【协同单位留言】", "partner_comment"),
                         ("【协同督办】", "partner_overdue"), ("联合处置工单已开启", "opened"),
                         ("【口径】", "statement")):
        if marker in subject:
            return kind
    return subject


QUEUES = ("evt-sentiment-sentiment.incident.detected--liaison.on_incident_detected",
          "evt-sentiment-sentiment.incident.escalated--liaison.on_incident_escalated",
          "evt-liaison-liaison.ticket.opened--notify.on_ticket_opened",
          "evt-liaison-liaison.ticket.escalated--notify.on_ticket_escalated",
          "evt-liaison-liaison.ticket.overdue--notify.on_ticket_overdue",
          "evt-liaison-liaison.statement.requested--notify.on_statement_requested",
          "evt-liaison-liaison.task.assigned--notify.on_task_assigned",
          "evt-liaison-liaison.partner.commented--notify.on_partner_commented")


def consuming(uri: str, queues: tuple[str, ...]) -> bool:
    """Every queue is declared and has a consumer (the services' /readyz waits for their own
    consumers too; this checks the broker's view)."""
    vhost = quote(uri.rsplit("/", 1)[1], safe="")
    resp = requests.get(f"http://127.0.0.1:15672/api/queues/{vhost}", auth=("guest", "guest"),
                        timeout=10)
    have = {q["name"]: q.get("consumers", 0) for q in resp.json()} if resp.ok else {}
    return all(have.get(q, 0) > 0 for q in queues)


def escalation_sent(uow: Any) -> bool:
    rows = handlers.delivery_log(uow(), {})
    done = [r for r in rows if r["event_type"] == "liaison.ticket.escalated"
            and r["status"] == "sent"]
    return len(done) == 6


def robot_messages(robots: Running) -> Counter[tuple[str, str]]:
    got: Counter[tuple[str, str]] = Counter()
    for r in robots.received():
        body = r["body"]
        text = (body.get("markdown", {}).get("content") or body.get("markdown", {}).get("text")
                or body.get("content", {}).get("text", ""))
        got[(r["robot"], _kind(text))] += 1
    return got


def task_and_partner_comment(wang_token: str, smtp: Running,
                             before: dict[tuple[str, str], int]) -> None:
    """wang gives qian a task on the ticket (liaison.task.assigned: the assignee), then the
    cyberspace administration comments through the partner API (liaison.partner.commented:
    the people on the ticket — IV's lead section 新闻宣传处, li — and II's lead section 办公室,
    wang and qian; level II, so li's quiet hours do not hold it). Each mail arrives once."""
    from click.testing import CliRunner

    from services.liaison.cli import partners

    staff = {"Authorization": f"Bearer {wang_token}"}
    (ticket,) = requests.get(url("liaison", "/tickets"), params={"incident_id": INC},
                             headers=staff, timeout=10).json()["tickets"]
    due = (datetime.now(SH) + timedelta(hours=2)).isoformat()
    r = requests.post(url("liaison", f"/tickets/{ticket['id']}/tasks"), headers=staff,
                      json={"title": "联系属地核实", "owner": "qian", "due_at": due}, timeout=10)
    assert r.status_code < 300, r.text
    added = CliRunner().invoke(partners, ["add", "cac"])
    assert added.exit_code == 0, added.output
    token = dict(line.split(": ", 1) for line in added.stdout.splitlines() if ": " in line)["token"]
    r = requests.post(url("liaison", f"/partner/tickets/{ticket['id']}/comments"),
                      headers={"Authorization": f"Bearer {token}"},
                      json={"text": "已安排属地核查，今晚答复"}, timeout=10)
    assert r.status_code < 300, r.text
    expected = {**before, ("qian@office.example", "task"): 1,
                **{(f"{who}@office.example", "partner_comment"): 1
                   for who in ("li", "wang", "qian")}}
    wait_for(lambda: mails(smtp) == expected, timeout=60, every=0.5)
    time.sleep(2)
    assert mails(smtp) == expected                       # once each


@pytest.fixture
def sinks(tmp_path: Path) -> Any:
    smtp = Running("smtp", free_port(), tmp_path / "smtp")
    robots = Running("robots", free_port(), tmp_path / "robots", "--wecom-key", KEYS["wecom"],
                     "--dingtalk-secret", KEYS["dingtalk"], "--feishu-secret", KEYS["feishu"])
    yield smtp, robots
    smtp.stop()
    robots.stop()


def test_escalation_and_breach_reach_each_person_once_across_a_sigkill(
        suite_env: dict[str, str], sinks: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    smtp, robots = sinks
    base = f"http://127.0.0.1:{robots.port}"
    env = {"LIAISON_PLANS": str(fast_plans(tmp_path / "plans.yaml")),
           "NOTIFY_SMTP_HOST": "127.0.0.1", "NOTIFY_SMTP_PORT": str(smtp.port),
           "NOTIFY_SMTP_STARTTLS": "false", "NOTIFY_SEND_LEASE_SECONDS": "3",
           "NOTIFY_ROBOT_OFFICE_URL": f"{base}/wecom/send?key={KEYS['wecom']}",
           "NOTIFY_ROBOT_LEADERS_URL": f"{base}/dingtalk/send?access_token=t",
           "NOTIFY_ROBOT_LEADERS_SECRET": KEYS["dingtalk"],
           "NOTIFY_ROBOT_LIAISON_URL": f"{base}/feishu/hook",
           "NOTIFY_ROBOT_LIAISON_SECRET": KEYS["feishu"], "NOTIFY_DIRECTORY_TTL_SECONDS": "1",
           "NOTIFY_DIGEST_AT": "off"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # the people: the II lead section is 办公室; li (新闻宣传处, IV's lead) and qian keep
    # quiet hours now
    wang_token = cli("users", "add", "wang", "--role", "section_head", "--section", "办公室",
                     "--email", "wang@office.example").strip().splitlines()[-1]
    cli("users", "add", "qian", "--role", "leader_in_charge", "--section", "办公室",
        "--email", "qian@office.example")
    li_token = cli("users", "add", "li", "--role", "editor", "--section", "新闻宣传处",
                   "--email", "li@office.example").strip().splitlines()[-1]
    for name in ("li", "qian"):
        cli("notify", "prefs", name, "--quiet", quiet_now())

    suite = Suite(report=lambda text: None)
    suite.start("processes", env={**suite_env, **env}, log_dir=tmp_path / "logs",
                supervise=True, services=("identity", "review", "liaison", "notify"))
    try:
        suite.wait_ready(timeout=120)
        uri = suite_env["AMQP_URI"]
        wait_for(lambda: consuming(uri, QUEUES), timeout=60)
        publish_event(uri, new_event("sentiment.incident.detected", {
            "incident_id": INC, "topic": "施工噪音", "level": "IV",
            "detected_at": datetime.now(SH).isoformat(), "negative_count": 9, "volume": 12,
            "negative_ratio": 0.75}, correlation_id=INC, tlp="AMBER"))
        wait_for(lambda: robot_messages(robots)[("wecom", "opened")], timeout=60)
        publish_event(uri, new_event("sentiment.incident.escalated", {
            "incident_id": INC, "topic": "施工噪音", "level": "II", "previous_level": "IV"},
            correlation_id=INC, tlp="AMBER"))
        # the escalation's six deliveries are out and recorded; the breach is still to come
        notify_uow = make_uow("notify", os.environ["NOTIFY_DATABASE_URL"])
        wait_for(lambda: escalation_sent(notify_uow), timeout=60, every=0.3)
        (notify,) = suite.of("notify")
        os.kill(notify.pid, signal.SIGKILL)
        expected_mails = {
            ("wang@office.example", "escalated"): 1,     # the II lead section, urgent
            ("qian@office.example", "escalated"): 1,     # quiet hours, but urgent: sent
            ("qian@office.example", "overdue"): 1,       # the chain's first step
            **{(a, "partner_overdue"): 1 for a in ("duty@cac.example.gov.cn",
                                                   "duty@propaganda.example.gov.cn",
                                                   "desk@media.example.cn")},
        }
        expected_robots = {("wecom", "opened"): 1, ("wecom", "escalated"): 1,
                           ("dingtalk", "escalated"): 1, ("dingtalk", "overdue"): 1,
                           ("feishu", "partner_overdue"): 1}
        wait_for(lambda: mails(smtp) == expected_mails and
                 robot_messages(robots) == expected_robots, timeout=90, every=0.5)
        assert notify.restarts == 1
        wait_for(lambda: requests.get(url("notify", "/readyz"), timeout=2).ok, timeout=30)
        time.sleep(4)                                    # longer than the send lease
        assert mails(smtp) == expected_mails             # li's mails are held, nothing twice
        assert robot_messages(robots) == expected_robots

        held = cli("notify", "log", "--recipient", "staff:li", "--json")
        assert held.count('"held_reason": "quiet_hours"') == 2   # ticket opened, statement
        inbox = requests.get(url("notify", "/inbox"), timeout=10,
                             headers={"Authorization": f"Bearer {li_token}"}).json()
        assert {_kind(m["subject"]) for m in inbox["messages"]} == {"opened", "statement"}
        assert requests.get(url("notify", "/inbox"), timeout=10).status_code == 401
        dead = cli("notify", "log", "--status", "dead")
        assert dead.strip() == ""
        task_and_partner_comment(wang_token, smtp, expected_mails)
    except Exception:
        print(cli("notify", "log"))
        for log in sorted((tmp_path / "logs").glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        suite.stop()
