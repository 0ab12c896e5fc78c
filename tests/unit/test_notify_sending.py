"""Notify use cases on SQLite with real parts: an aiosmtpd server receives the mail and a local
HTTP server checks each robot's signature (tests/notify_sinks.py, both real processes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from civicpulse.envelope import Envelope, new_event
from civicpulse.tables import outbox_table
from services.notify import config, handlers
from services.notify.domain import Agency, Person
from tests.notify_sinks import Running, free_port, message, self_signed

ROBOT_KEYS = {"wecom": "wk-123", "dingtalk": "SECd1ng", "feishu": "fs-secret"}
PEOPLE = [Person("wang", "section_head", "新闻宣传处", "wang@office.example"),
          Person("qian", "leader_in_charge", "办公室", "qian@office.example"),
          Person("zhou", "editor", "新闻宣传处", None),
          Person("nobody-box", "editor", "办公室", "nobody@office.example")]
AGENCIES = {"cac": Agency("cac", "市委网信办", ("duty@cac.example",))}
NOON = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)        # 12:00 in Shanghai
NIGHT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)      # 23:00 in Shanghai


@pytest.fixture
def smtp(tmp_path: Path) -> Any:
    sink = Running("smtp", free_port(), tmp_path / "smtp", "--reject", "nobody")
    yield sink
    sink.stop()


@pytest.fixture
def robots(tmp_path: Path) -> Any:
    sink = Running("robots", free_port(), tmp_path / "robots", "--wecom-key",
                   ROBOT_KEYS["wecom"], "--dingtalk-secret", ROBOT_KEYS["dingtalk"],
                   "--feishu-secret", ROBOT_KEYS["feishu"])
    yield sink
    sink.stop()


def make_cfg(smtp_port: int, robot_port: int, **env: str) -> config.NotifyConfig:
    base = f"http://127.0.0.1:{robot_port}"
    return config.build(config.HERE / "rules.yaml", config.HERE / "channels.yaml", {
        "NOTIFY_SMTP_HOST": "127.0.0.1", "NOTIFY_SMTP_PORT": str(smtp_port),
        "NOTIFY_SMTP_STARTTLS": "false", "NOTIFY_CONSOLE_URL": "https://console.example/",
        "NOTIFY_ROBOT_OFFICE_URL": f"{base}/wecom/send?key={ROBOT_KEYS['wecom']}",
        "NOTIFY_ROBOT_LEADERS_URL": f"{base}/dingtalk/send?access_token=tok",
        "NOTIFY_ROBOT_LEADERS_SECRET": ROBOT_KEYS["dingtalk"],
        "NOTIFY_ROBOT_LIAISON_URL": f"{base}/feishu/hook",
        "NOTIFY_ROBOT_LIAISON_SECRET": ROBOT_KEYS["feishu"], **env})


@pytest.fixture
def uow(uow_factory: Any) -> Any:
    return uow_factory("notify")


def escalated(**extra: Any) -> Envelope:
    return new_event("liaison.ticket.escalated", {
        "ticket_id": "T-1", "incident_id": "inc-1", "status": "open", "level": "II",
        "previous_level": "IV", "topic": "水污染", "title": "某河段水污染投诉",
        "lead_section": "新闻宣传处", "agencies": ["cac"], **extra}, correlation_id="inc-1")


def plan(uow: Any, cfg: config.NotifyConfig, event: Envelope, now: datetime = NOON) -> int:
    return handlers.plan_event(uow(), event, cfg, lambda: PEOPLE, lambda: AGENCIES, now=now)


def send_all(uow: Any, cfg: config.NotifyConfig, tmp_path: Path, now: datetime) -> int:
    senders = handlers.Senders(cfg, tmp_path / "eml")
    total = 0
    while n := handlers.send_due(uow(), senders, now=now):
        total += n
    return total


def failed_events(uow: Any) -> list[dict[str, Any]]:
    with uow() as u:
        rows = u.session.execute(select(outbox_table.c.body)).scalars()
        bodies = [json.loads(b) for b in rows]
    return [b["payload"] for b in bodies if b["type"] == "notify.delivery.failed"]


def test_an_escalation_reaches_the_lead_the_leader_the_robots_and_is_planned_once(
        uow: Any, smtp: Any, robots: Any, tmp_path: Path) -> None:
    cfg = make_cfg(smtp.port, robots.port)
    event = escalated()
    # lead section 新闻宣传处: wang (e-mail) and zhou (no address); leader_in_charge: qian
    assert plan(uow, cfg, event) == 2 * 3 + 2
    assert plan(uow, cfg, event) == 0                       # redelivered: nothing new
    assert send_all(uow, cfg, tmp_path, NOON) == 2 + 2      # two mails, two robots
    mails = smtp.received()
    assert sorted(m["rcpt_tos"][0] for m in mails) == ["qian@office.example",
                                                        "wang@office.example"]
    msg = message(mails[0])
    assert "升级为 II 级" in msg["Subject"]
    assert "https://console.example/tickets/T-1" in msg.get_content()
    got = {r["robot"]: r["body"] for r in robots.received()}
    assert set(got) == {"wecom", "dingtalk"}
    assert "升级为 II 级" in got["wecom"]["markdown"]["content"]
    assert got["dingtalk"]["msgtype"] == "markdown"
    # zhou has no address: dead at once, with the reason, and notify.delivery.failed
    (failed,) = failed_events(uow)
    assert failed["recipient"] == "staff:zhou" and "no email address" in failed["reason"]
    inbox = handlers.inbox(uow(), "zhou", {"unread": False, "limit": 50, "before": None})
    assert inbox["unread"] == 1 and "升级" in inbox["messages"][0]["subject"]
    assert send_all(uow, cfg, tmp_path, NOON + timedelta(hours=1)) == 0
    assert len(smtp.received()) == 2


def test_partner_step_mails_the_agency_contacts_and_posts_to_feishu(
        uow: Any, smtp: Any, robots: Any, tmp_path: Path) -> None:
    cfg = make_cfg(smtp.port, robots.port)
    overdue = new_event("liaison.ticket.overdue", {
        "ticket_id": "T-1", "incident_id": "inc-1", "status": "open",
        "deadline": "acknowledge", "step": 2, "notify": "partner_lead",
        "due_at": "2026-11-29T03:00:00+00:00", "agencies": ["cac"]}, correlation_id="inc-1")
    assert plan(uow, cfg, overdue) == 2
    send_all(uow, cfg, tmp_path, NOON)
    (mail,) = smtp.received()
    assert mail["rcpt_tos"] == ["duty@cac.example"]
    assert "签收时限（2026-11-29 11:00）已过" in message(mail).get_content()
    ((robot),) = robots.received()
    assert robot["robot"] == "feishu" and "工单 T-1" in robot["body"]["content"]["text"]


def test_quiet_hours_hold_an_ordinary_mail_but_not_an_escalation(
        uow: Any, smtp: Any, robots: Any, tmp_path: Path) -> None:
    cfg = make_cfg(smtp.port, robots.port)
    handlers.set_preferences(uow(), "wang", {"channels": ["email", "inbox"],
                                            "quiet_hours": "22:00-07:30"})
    opened = new_event("liaison.ticket.opened", {
        "ticket_id": "T-2", "incident_id": "inc-2", "status": "open", "level": "IV",
        "topic": "噪音", "title": "夜间施工噪音", "lead_section": "新闻宣传处",
        "agencies": ["cac"], "deadlines": {"acknowledge": "2026-11-29T16:00:00+00:00"}},
        correlation_id="inc-2")
    plan(uow, cfg, opened, now=NIGHT)
    plan(uow, cfg, escalated(), now=NIGHT)
    send_all(uow, cfg, tmp_path, NIGHT)
    subjects = [message(m)["Subject"]
                for m in smtp.received() if m["rcpt_tos"] == ["wang@office.example"]]
    assert len(subjects) == 1 and "升级" in subjects[0]
    log = handlers.delivery_log(uow(), {"recipient": "staff:wang", "channel": "email"})
    held = [d for d in log if d["held_reason"] == "quiet_hours"]
    assert len(held) == 1 and held[0]["next_attempt_at"].startswith("2026-11-29T23:30")
    send_all(uow, cfg, tmp_path, datetime(2026, 11, 29, 23, 31, tzinfo=UTC))  # 07:31
    assert len([m for m in smtp.received() if m["rcpt_tos"] == ["wang@office.example"]]) == 2


def test_unreachable_relay_is_retried_with_backoff_and_a_refused_mailbox_is_dead(
        uow: Any, robots: Any, tmp_path: Path) -> None:
    port = free_port()
    cfg = make_cfg(port, robots.port)
    returned = new_event("review.case.returned", {
        "case_id": "C-1", "item_id": "I-1", "revision": 2, "stage": "principal",
        "comment": "请核实数据", "author": "wang"}, correlation_id="I-1")
    bounced = new_event("review.case.returned", {
        "case_id": "C-2", "item_id": "I-2", "revision": 1, "stage": "section_head",
        "comment": "改标题", "author": "nobody-box"}, correlation_id="I-2")
    plan(uow, cfg, returned)
    plan(uow, cfg, bounced)
    senders = handlers.Senders(cfg, tmp_path / "eml")
    assert handlers.send_due(uow(), senders, now=NOON) == 2      # relay down: both retry
    (first,) = handlers.delivery_log(uow(), {"recipient": "staff:wang", "channel": "email"})
    assert first["status"] == "pending" and first["tries"][0]["outcome"] == "retry"
    assert "SMTP relay" in first["last_error"]
    assert handlers.send_due(uow(), senders, now=NOON + timedelta(seconds=1)) == 0  # backoff
    smtp = Running("smtp", port, tmp_path / "smtp", "--reject", "nobody")
    try:
        later = NOON + timedelta(seconds=cfg.retry["email"].base_seconds + 1)
        assert handlers.send_due(uow(), senders, now=later) == 2
        (mail,) = smtp.received()
        assert mail["rcpt_tos"] == ["wang@office.example"]
    finally:
        smtp.stop()
    (dead,) = handlers.delivery_log(uow(), {"status": "dead"})
    assert dead["recipient"] == "staff:nobody-box" and "550" in dead["last_error"]
    assert [t["outcome"] for t in dead["tries"]] == ["retry", "dead"]
    assert [f["recipient"] for f in failed_events(uow)] == ["staff:nobody-box"]


def test_robot_outage_is_retried_and_a_wrong_secret_is_dead(
        uow: Any, smtp: Any, tmp_path: Path) -> None:
    port = free_port()
    robots = Running("robots", port, tmp_path / "robots", "--wecom-key", ROBOT_KEYS["wecom"],
                     "--dingtalk-secret", "SECother", "--feishu-secret", ROBOT_KEYS["feishu"],
                     "--fail-first", "1")
    try:
        cfg = make_cfg(smtp.port, port)
        plan(uow, cfg, escalated())
        robots_log = lambda: handlers.delivery_log(uow(), {"channel": "robot"})  # noqa: E731
        send_all(uow, cfg, tmp_path, NOON)
        later = NOON + timedelta(seconds=cfg.retry["robot"].base_seconds + 1)
        send_all(uow, cfg, tmp_path, later)
        by_robot = {d["address"]: d for d in robots_log()}
        assert by_robot["office"]["status"] == "sent"
        assert by_robot["leaders"]["status"] == "dead"
        assert "310000" in by_robot["leaders"]["last_error"]
        assert [r["robot"] for r in robots.received()] == ["wecom"]
    finally:
        robots.stop()


def test_starttls_and_login(uow: Any, tmp_path: Path, robots: Any) -> None:
    cert, key = self_signed(tmp_path)
    smtp = Running("smtp", free_port(), tmp_path / "smtp", "--tls", str(cert), str(key),
                   "--auth", "notify:s3cret")
    try:
        cfg = make_cfg(smtp.port, robots.port, NOTIFY_SMTP_STARTTLS="true",
                       NOTIFY_SMTP_USER="notify", NOTIFY_SMTP_PASSWORD="s3cret",
                       NOTIFY_SMTP_CAFILE=str(cert))
        plan(uow, cfg, new_event("review.case.returned", {
            "case_id": "C-1", "item_id": "I-1", "revision": 2, "stage": "principal",
            "comment": "请核实", "author": "wang"}, correlation_id="I-1"))
        send_all(uow, cfg, tmp_path, NOON)
        (mail,) = smtp.received()
        assert mail["tls"] and mail["auth"]
    finally:
        smtp.stop()


def test_inbox_is_per_person_and_marks_read(uow: Any, smtp: Any, robots: Any) -> None:
    cfg = make_cfg(smtp.port, robots.port)
    plan(uow, cfg, escalated())
    query = {"unread": True, "limit": 50, "before": None}
    wang = handlers.inbox(uow(), "wang", query)
    assert wang["unread"] == 1
    other = handlers.mark_read(uow(), "qian", {"ids": [wang["messages"][0]["id"]]})
    assert other["marked"] == 0                                  # not qian's message
    assert handlers.mark_read(uow(), "wang", {"ids": [wang["messages"][0]["id"]]}) == \
        {"marked": 1, "unread": 0}
    assert handlers.inbox(uow(), "wang", query)["messages"] == []
    assert handlers.summary(uow())["by_channel"]["inbox"] == 3


def test_daily_digest_once_a_day_with_opinion_and_unread_work(
        uow: Any, smtp: Any, robots: Any, tmp_path: Path) -> None:
    cfg = make_cfg(smtp.port, robots.port)
    plan(uow, cfg, escalated())                    # one unread inbox message each
    incidents = [{"incident_id": "inc-1", "topic": "水污染", "level": "II", "status": "open"},
                 {"incident_id": "inc-0", "topic": "旧事", "level": "IV", "status": "closed"}]
    at_0840 = datetime(2026, 11, 30, 0, 40, tzinfo=UTC)   # 08:40 in Shanghai
    assert handlers.daily_digest(uow(), cfg, lambda: PEOPLE, lambda: [], now=NOON) == 0
    # wang, qian and nobody-box have an address; zhou has none
    assert handlers.daily_digest(uow(), cfg, lambda: PEOPLE, lambda: incidents,
                                 now=at_0840) == 3
    assert handlers.daily_digest(uow(), cfg, lambda: PEOPLE, lambda: incidents,
                                 now=at_0840 + timedelta(minutes=5)) == 0
    send_all(uow, cfg, tmp_path, at_0840)
    digests = {m["rcpt_tos"][0]: message(m)
               for m in smtp.received()
               if "每日简报" in message(m)["Subject"]}
    assert set(digests) == {"wang@office.example", "qian@office.example"}  # nobody@: 550
    body = digests["wang@office.example"].get_content()
    assert "在办舆情事件 1 起" in body and "II 级 水污染" in body and "旧事" not in body
    assert "未读通知 1 条" in body and "升级为 II 级" in body
    late = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)          # 10:00: past the hour's window
    assert handlers.daily_digest(uow(), cfg, lambda: PEOPLE, lambda: None, now=late) == 0
