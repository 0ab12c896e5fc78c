"""The assessment report (考评) for October 2026, built from a seeded month of activity.

The month is driven through the services' real use cases on PostgreSQL (one database per
service), with the clock moved to each step's moment (time-machine): two incidents whose
statements go through news and review to publication (the events carried from one service's
outbox to the next service's use case), two articles returned and rejected in review, the
publicity plan, public comments and their replies, notifications read or not; one ticket, one
plan entry, one comment and one notification fall outside the month. Then identity, review,
liaison, news and notify run as real processes on those databases, `civicpulse report
assessment --month 2026-10` reads their `GET /records` with an admin token, and every figure of
the report is compared with figures computed here from the schedule itself. `civicpulse status`
is then checked on the same running suite (one suite start for both: the CI budget).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from assessment.cli import report
from civicpulse import status
from civicpulse.cli import cli
from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.envelope import Envelope, new_event, parse
from civicpulse.launcher import Suite
from civicpulse.settings import SERVICES, service_url
from civicpulse.tables import outbox_table
from services.identity import accounts
from services.liaison import config as liaison_config
from services.liaison import incidents, statement, ticket_work
from services.news import config as news_config
from services.news import interaction, plan, queue, review_outcomes, statements
from services.news import items as news
from services.notify import config as notify_config
from services.notify import handlers as notify
from services.notify.domain import Person
from services.review import config as review_config
from services.review import handlers as review
from services.review.domain import Reviewer
from tests.conftest import ROOT
from tests.e2e.conftest import free_port, vhost_uri  # noqa: F401 - a fixture
from tests.helpers import wait_for

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
SERVED = ("identity", "review", "liaison", "news", "notify")
EMPTY = status.Queue("", 0, 0)
OK = {"accuracy": True, "orientation": True, "format": True}
EMAILS = {"sun": "sun@office.example", "qian": "qian@office.example",
          "zhao": "zhao@office.example"}  # the others have no address: their mails are dead
STAFF = {  # name: (role, section)
    "kp-admin": ("admin", "办公室"), "wang": ("section_head", "新闻宣传处"),
    "qian": ("leader_in_charge", "办公室"), "zhao": ("principal", "办公室"),
    "zhou": ("section_head", "办公室"), "sun": ("editor", "新闻宣传处"),
    "li": ("editor", "网络舆情处"),
}


def T(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


class Month:
    """The three services' use cases on their PostgreSQL databases, at chosen moments."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.factories = {s: session_factory(make_engine(u)) for s, u in urls.items()}
        self.review_cfg, self.news_cfg = review_config.load(), news_config.load()
        self.liaison_cfg = liaison_config.load()
        self.tokens: dict[str, str] = {}

    def uow(self, service: str) -> UnitOfWork:
        return UnitOfWork(self.factories[service], service)

    def at(self, moment: datetime) -> Any:
        return time_machine.travel(moment, tick=False)

    def latest(self, service: str, event_type: str) -> Envelope:
        with self.uow(service) as u:
            body = u.session.execute(select(outbox_table.c.body).where(
                outbox_table.c.event_type == event_type).order_by(outbox_table.c.id.desc())
            ).scalars().first()
        assert body is not None, f"{service} recorded no {event_type}"
        return parse(body)

    def decide(self, case_id: str, who: str, decision: str, moment: datetime) -> None:
        with self.at(moment):  # nested travels are fine: time-machine keeps a stack
            review.sweep_overdue(self.uow("review"),  # the service's timer
                                 lambda: accounts.directory(self.uow("identity")), now=moment)
            body = {"decision": decision, "checklist": OK if decision == "approve" else None,
                    "comment": None if decision == "approve" else "请修改"}
            review.decide(self.uow("review"), case_id, Reviewer(who, STAFF[who][0]), body,
                          self.review_cfg)

    def submitted_case(self, moment: datetime) -> str:
        """review takes news' latest submission (its consumer, a minute later)."""
        with self.at(moment):
            case_id = review.open_case(self.uow("review"),
                                       self.latest("news", "news.item.submitted"),
                                       self.review_cfg)
        assert case_id
        return case_id

    def incident(self, incident_id: str, level: str, opened: datetime) -> str:
        event = new_event("sentiment.incident.detected", {
            "incident_id": incident_id, "topic": "代表建议办理", "level": level,
            "detected_at": opened.isoformat(), "negative_count": 30, "volume": 40,
            "negative_ratio": 0.75}, correlation_id=incident_id, tlp="AMBER")
        with self.at(opened):
            effect = incidents.open_ticket(self.uow("liaison"), event, self.liaison_cfg,
                                         now=opened)
        assert effect is not None
        return effect.ticket_id

    def statement(self, opened: datetime, stages: list[tuple[str, datetime]],
                  published: datetime, meanwhile: tuple[datetime, Callable[[], Any]]) -> str:
        """news drafts the requested statement 2 min after the ticket opened, review opens the
        case a minute later, each stage approves, news publishes at `published`, liaison
        records it a minute later; `meanwhile` happens in its place in time. Returns the
        statement's item id."""
        with self.at(opened.replace(minute=opened.minute + 2)):
            item_id = statements.draft_statement(
                self.uow("news"), self.latest("liaison", "liaison.statement.requested"))
        case_id = self.submitted_case(opened.replace(minute=opened.minute + 3))
        steps = [(moment, lambda w=who, m=moment: self.decide(case_id, w, "approve", m))
                 for who, moment in stages]
        for moment, step in sorted([*steps, meanwhile], key=lambda s: s[0]):
            with self.at(moment):
                step()
        with self.at(published):
            review_outcomes.on_case_approved(
                self.uow("news"), self.latest("review", "review.case.approved"),
                self.news_cfg, now=published)
            queue.deliver_due(self.uow("news"), self.news_cfg, now=published)
        later = published.replace(minute=published.minute + 1)
        with self.at(later):
            statement.statement_published(self.uow("liaison"),
                                        self.latest("news", "news.item.published"),
                                        self.liaison_cfg, now=later)
        assert item_id
        return item_id

    def acknowledge(self, ticket_id: str, who: str, moment: datetime
                    ) -> tuple[datetime, Callable[[], Any]]:
        return moment, lambda: ticket_work.acknowledge(self.uow("liaison"), ticket_id, who,
                                                       self.liaison_cfg, now=moment)

    def article(self, author: str, created: datetime) -> str:
        with self.at(created):
            item = news.create_item(self.uow("news"), {
                "kind": "article", "title": "人大代表走进社区", "body": "正文" * 40,
                "column": "人大工作进行时", "author": author})
            news.submit_item(self.uow("news"), item["id"])
        return self.submitted_case(created.replace(minute=created.minute + 1))


def seed_staff(month: Month) -> None:
    for name, (role, section) in STAFF.items():
        month.tokens[name] = accounts.add(month.uow("identity"), name, role, section=section,
                                          email=EMAILS.get(name))


def seed_incidents(month: Month) -> dict[str, str]:
    """A: level IV, 新闻宣传处, everything within the plan. B: level II, 办公室, acknowledged
    late, the statement late (an overdue leader stage), not resolved. C: in September."""
    month.incident("inc-sep", "IV", T(30, 10, month=9))
    a = month.incident("inc-a", "IV", T(5, 9))
    item_a = month.statement(T(5, 9), [("wang", T(5, 9, 23)), ("qian", T(5, 9, 48)),
                                       ("zhao", T(5, 10, 38))], published=T(5, 10, 40),
                             meanwhile=month.acknowledge(a, "zhou", T(5, 9, 30)))
    with month.at(T(6, 9)):
        ticket_work.change_status(month.uow("liaison"), a, "resolved", "zhou", month.liaison_cfg,
                              now=T(6, 9))
    b = month.incident("inc-b", "II", T(20, 14))
    item_b = month.statement(T(20, 14), [("wang", T(20, 14, 23)), ("qian", T(20, 18, 23)),
                                         ("zhao", T(20, 18, 53))], published=T(20, 18, 55),
                             meanwhile=month.acknowledge(b, "zhou", T(20, 14, 40)))
    return {"a": item_a, "b": item_b}


def seed_articles(month: Month) -> None:
    """Two articles of sun (default workflow, no stage deadlines): one returned, one rejected."""
    first = month.article("sun", T(10, 9))
    month.decide(first, "wang", "return", T(10, 11, 1))
    second = month.article("sun", T(12, 9))
    month.decide(second, "wang", "approve", T(12, 10, 1))
    month.decide(second, "qian", "reject", T(12, 14, 1))


def seed_plan(month: Month, statements: dict[str, str]) -> None:
    with month.at(T(1, 9)):
        theme = plan.add_theme(month.uow("news"), {"month": "2026-10", "title": "代表履职"})
        for owner, due, item in (("sun", date(2026, 10, 15), statements["a"]),
                                 ("li", date(2026, 10, 18), statements["b"]),
                                 ("li", date(2026, 10, 25), None),
                                 ("sun", date(2026, 11, 2), None)):
            plan.add_entry(month.uow("news"), theme["id"], {
                "title": f"计划稿件 {due}", "kind": "article", "owner": owner, "due_on": due,
                "item_id": item})


COMMENTS = [  # (external id, received, replied by, replied at)
    ("c1", T(3, 10), "sun", T(3, 12)),
    ("c2", T(8, 10), "sun", T(9, 14)),
    ("c3", T(15, 10), "li", T(15, 10, 30)),
    ("c4", T(28, 10), None, None),
    ("c0", T(29, 10, month=9), "li", T(29, 11, month=9)),
]


def seed_comments(month: Month) -> None:
    uow = month.uow("news")
    interaction.receive_comments(uow, [
        {"channel": "wechat", "external_id": ext, "author": "网友", "text": "请问何时答复？",
         "received_at": received, "item_id": None} for ext, received, _, _ in COMMENTS],
        month.news_cfg, now=T(1, 0))
    ids = {c["external_id"]: c["id"] for c in interaction.list_comments(uow, "awaiting")}
    for ext, _, who, at in COMMENTS:
        if who:
            interaction.reply(uow, ids[ext], "感谢关注，已转相关部门办理。", who, now=at)


NOTICES = [  # (event, payload, when, {recipient: read at}); each to email and inbox
    ("review.case.returned", {"author": "sun"}, T(10, 11, 1), {"sun": T(10, 13, 1)}),
    ("review.case.rejected", {"author": "sun"}, T(12, 14, 1), {}),
    ("review.stage.overdue", {"escalated_to": ["qian"]}, T(20, 14, 53), {"qian": T(20, 15, 23)}),
    ("liaison.task.assigned", {"assignee": "li"}, T(21, 9), {}),
    ("liaison.partner.commented", {"participants": [
        {"party": "办公室", "kind": "section", "role": "lead"}]}, T(22, 9),
     {"qian": T(22, 10), "zhou": T(2, 9, month=11)}),       # zhou reads it in November
    ("review.case.returned", {"author": "sun"}, T(30, 10, month=9), {"sun": T(1, 9)}),
]
ON_TICKET = {"liaison.partner.commented": ("kp-admin", "qian", "zhao", "zhou")}


def seed_notifications(month: Month, mail_dir: Path) -> None:
    """Notify plans each notice under the shipped rules at its moment, sends the mails at once
    (.eml files: no SMTP host) and its recipients read their inbox when the schedule says."""
    cfg = notify_config.load()
    people = [Person(n, role, sec, EMAILS.get(n)) for n, (role, sec) in STAFF.items()]
    senders = notify.Senders(cfg, mail_dir)
    for n, (event_type, payload, moment, reads) in enumerate(NOTICES):
        event = new_event(event_type, full_payload(event_type, payload, n),
                          correlation_id=f"notice-{n}", tlp="RED")
        assert notify.plan_event(month.uow("notify"), event, cfg, lambda: people, dict,
                                 now=moment)
        notify.send_due(month.uow("notify"), senders, now=moment)
        for who, at in reads.items():
            inbox = notify.inbox(month.uow("notify"), who, {"unread": True, "limit": 50,
                                                            "before": None})
            ids = [m["id"] for m in inbox["messages"]
                   if datetime.fromisoformat(m["created_at"]) == moment]
            assert len(ids) == 1, (who, inbox)
            notify.mark_read(month.uow("notify"), who, {"ids": ids}, now=at)


def full_payload(event_type: str, extra: dict[str, Any], n: int) -> dict[str, Any]:
    """What the producer's contract requires around the fields the rules read."""
    ticket = {"ticket_id": f"tkt-{n}", "incident_id": f"inc-{n}", "level": "IV",
              "title": "舆情联合处置", "lead_section": "办公室", "participants": []}
    base = {
        "review.case.returned": {"case_id": f"case-{n}", "item_id": f"itm-{n}", "revision": 1,
                                 "stage": "section_head", "reviewer": "wang", "comment": "改"},
        "review.stage.overdue": {"case_id": f"case-{n}", "item_id": f"itm-{n}", "revision": 1,
                                 "stage": "leader_in_charge", "due_at": "2026-10-20T06:53:00Z",
                                 "step": 1},
        "liaison.task.assigned": {**ticket, "task_id": n, "task": "核查", "previous_assignee":
                                  None, "due_at": "2026-10-22T01:00:00Z", "by": "zhou"},
        "liaison.partner.commented": {**ticket, "agency": "cac", "agency_name": "网信办",
                                      "text": "已核查", "at": "2026-10-22T01:00:00Z"}}
    base["review.case.rejected"] = base["review.case.returned"]
    return {**base[event_type], **extra}


# --- the figures, computed from the schedule above ------------------------------------------

def r2(x: float) -> float:
    return round(x, 2)


def expected_review() -> dict[tuple[str, str], tuple[Any, ...]]:
    """(person, stage) → (n, approve, return, reject, mean h, max h, overdue). Expedited
    stages are due in 30/30/60 minutes; the default workflow has no deadline."""
    wang = [hours(T(5, 9, 3), T(5, 9, 23)), hours(T(20, 14, 3), T(20, 14, 23)),
            hours(T(10, 9, 1), T(10, 11, 1)), hours(T(12, 9, 1), T(12, 10, 1))]
    qian = [hours(T(5, 9, 23), T(5, 9, 48)), hours(T(20, 14, 23), T(20, 18, 23)),
            hours(T(12, 10, 1), T(12, 14, 1))]
    zhao = [hours(T(5, 9, 48), T(5, 10, 38)), hours(T(20, 18, 23), T(20, 18, 53))]
    return {
        ("wang", "处室负责人"): (4, 3, 1, 0, r2(sum(wang) / 4), r2(max(wang)), 0),
        ("qian", "分管领导"): (3, 2, 0, 1, r2(sum(qian) / 3), r2(max(qian)), 1),
        ("zhao", "主要领导"): (2, 2, 0, 0, r2(sum(zhao) / 2), r2(max(zhao)), 0),
    }


def by(rows: list[dict[str, Any]], *keys: str) -> dict[Any, dict[str, Any]]:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


def check_review(measure: dict[str, Any]) -> None:
    people = by(measure["by_person"], "人员", "审核环节")
    assert set(people) == set(expected_review())
    names = ("审核次数", "通过", "退回", "不予通过", "平均用时(小时)", "最长用时(小时)",
             "超时次数")
    for key, figures in expected_review().items():
        assert tuple(people[key][n] for n in names) == figures, key
        assert people[key]["处室"] == STAFF[key[0]][1]
    sections = by(measure["by_section"], "处室", "审核环节")
    assert set(sections) == {("新闻宣传处", "处室负责人"), ("办公室", "分管领导"),
                             ("办公室", "主要领导")}
    assert sections[("办公室", "分管领导")]["超时次数"] == 1


def check_submissions(measure: dict[str, Any]) -> None:
    """Cases submitted in October by author: the two statements (the liaison desk, no staff
    account) approved; sun's two articles returned and rejected."""
    assert by(measure["by_person"], "作者") == {
        "liaison-desk": {"作者": "liaison-desk", "处室": "未登记处室", "送审": 2, "通过": 2,
                         "退回": 0, "不予通过": 0, "审核中": 0, "退回与否决率": 0.0},
        "sun": {"作者": "sun", "处室": "新闻宣传处", "送审": 2, "通过": 0, "退回": 1,
                "不予通过": 1, "审核中": 0, "退回与否决率": 1.0}}


def check_tickets(measure: dict[str, Any]) -> None:
    sections = by(measure["by_section"], "牵头处室")
    assert sections == {
        "新闻宣传处": {"牵头处室": "新闻宣传处", "工单数": 1, "已签收": 1, "按时签收": 1,
                    "已办结": 1, "按时办结": 1, "按时签收率": 1.0, "按时办结率": 1.0},
        "办公室": {"牵头处室": "办公室", "工单数": 1, "已签收": 1, "按时签收": 0, "已办结": 0,
                "按时办结": 0, "按时签收率": 0.0, "按时办结率": 0.0}}
    assert measure["by_person"] == [{"人员": "zhou", "处室": "办公室", "签收数": 2,
                                     "按时签收": 1, "办结数": 1, "按时办结": 1}]


def check_statements(measure: dict[str, Any]) -> None:
    a, b = hours(T(5, 9), T(5, 10, 40)), hours(T(20, 14), T(20, 18, 55))
    assert by(measure["by_section"], "牵头处室") == {
        "新闻宣传处": {"牵头处室": "新闻宣传处", "口径请求": 1, "已发布": 1, "按时发布": 1,
                    "平均用时(小时)": r2(a), "最长用时(小时)": r2(a)},
        "办公室": {"牵头处室": "办公室", "口径请求": 1, "已发布": 1, "按时发布": 0,
                "平均用时(小时)": r2(b), "最长用时(小时)": r2(b)}}


def check_plan(measure: dict[str, Any]) -> None:
    assert by(measure["by_person"], "责任人") == {
        "sun": {"责任人": "sun", "处室": "新闻宣传处", "计划条目": 1, "已完成": 1,
                "按时完成": 1, "按时完成率": 1.0},
        "li": {"责任人": "li", "处室": "网络舆情处", "计划条目": 2, "已完成": 1,
               "按时完成": 0, "按时完成率": 0.0}}
    assert {r["处室"]: r["计划条目"] for r in measure["by_section"]} == {"新闻宣传处": 1,
                                                                        "网络舆情处": 2}


def check_comments(measure: dict[str, Any]) -> None:
    in_month = [c for c in COMMENTS if c[1].month == 10]
    sun = [hours(rec, at) for _, rec, who, at in in_month if who == "sun"]
    assert by(measure["by_person"], "人员") == {
        "sun": {"人员": "sun", "处室": "新闻宣传处", "评论数": 2, "已回复": 2, "按时回复": 1,
                "平均回复用时(小时)": r2(sum(sun) / 2)},
        "li": {"人员": "li", "处室": "网络舆情处", "评论数": 1, "已回复": 1, "按时回复": 1,
               "平均回复用时(小时)": 0.5}}
    assert by(measure["by_section"], "处室")["（未回复）"]["评论数"] == 1


def expected_notifications() -> dict[str, tuple[Any, ...]]:
    """person → (inbox, read, read rate, mean hours to read, mails, delivered, delivery rate)
    for the notices recorded in October, from the schedule: every recipient gets one inbox
    message and one mail per notice; a mail is delivered when the person has an address."""
    got: dict[str, list[Any]] = {}
    for event_type, payload, moment, reads in NOTICES:
        if moment.month != 10:
            continue
        for who in ON_TICKET.get(event_type) or [payload.get("author") or payload.get("assignee")
                                                 or payload["escalated_to"][0]]:
            row = got.setdefault(who, [0, [], 0, 0])
            row[0] += 1
            if who in reads:
                row[1].append(hours(moment, reads[who]))
            row[2] += 1
            row[3] += who in EMAILS
    return {who: (inbox, len(read), round(len(read) / inbox, 3),
                  r2(sum(read) / len(read)) if read else None, mails, sent,
                  round(sent / mails, 3))
            for who, (inbox, read, mails, sent) in got.items()}


NOTICE_FIGURES = ("站内通知", "已读", "已读率", "平均确认用时(小时)", "邮件", "已送达", "送达率")


def check_notifications(measure: dict[str, Any]) -> None:
    people = by(measure["by_person"], "人员")
    expected = expected_notifications()
    assert set(people) == set(expected)
    assert expected["zhou"][3] == 264.0  # read in November: still acknowledged
    for who, figures in expected.items():
        assert tuple(people[who][n] for n in NOTICE_FIGURES) == figures, who
        assert people[who]["处室"] == STAFF[who][1]
    sections = by(measure["by_section"], "处室")
    office = [f for who, f in expected.items() if STAFF[who][1] == "办公室"]
    assert sections["办公室"]["站内通知"] == sum(f[0] for f in office)
    assert sections["办公室"]["已读"] == sum(f[1] for f in office)
    assert sections["办公室"]["已送达"] == sum(f[5] for f in office)


# --- the test --------------------------------------------------------------------------------

@pytest.fixture
def databases(pg_database_factory: Callable[[str], str]) -> dict[str, str]:
    urls = {s: pg_database_factory(f"cp_assess_{s}") for s in SERVED}
    for service, url in urls.items():
        migrate(url, ROOT / "services" / service / "migrations")
    return urls


@pytest.fixture
def served(databases: dict[str, str], vhost_uri: str, tmp_path: Path,  # noqa: F811
           monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Seed October, then run identity, review, liaison, news and notify as processes on those
    databases."""
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    month = Month(databases)
    seed_staff(month)
    statements = seed_incidents(month)
    seed_articles(month)
    seed_plan(month, statements)
    seed_comments(month)
    seed_notifications(month, tmp_path / "mail")
    env = {"AMQP_URI": vhost_uri, "CIVICPULSE_VAR_DIR": str(tmp_path / "var"),
           "NOTIFY_DIGEST_AT": "off"}
    for service, url in databases.items():
        env[f"{service.upper()}_DATABASE_URL"] = url
        env[f"{service.upper()}_HTTP_PORT"] = str(free_port())
    suite = Suite()
    suite.start("processes", env=env, log_dir=tmp_path / "logs", services=SERVED)
    try:
        suite.wait_ready(timeout=120)
        yield {**env, "CIVICPULSE_TOKEN": month.tokens["kp-admin"],
               "editor_token": month.tokens["sun"]}
    finally:
        suite.stop()


def test_october_report_matches_the_seeded_month_and_status_shows_the_suite(
        served: dict[str, str], tmp_path: Path) -> None:
    urls = {s: f"http://127.0.0.1:{served[f'{s.upper()}_HTTP_PORT']}" for s in SERVED}
    for service, url in urls.items():  # the raw records are for admins only
        params = {"since": T(1, 0).isoformat(), "until": T(1, 0, month=11).isoformat()}
        assert requests.get(f"{url}/records", params=params, timeout=30).status_code == 401
        denied = requests.get(f"{url}/records", params=params, timeout=30,
                              headers={"Authorization": f"Bearer {served['editor_token']}"})
        assert denied.status_code == 403, service
    out = tmp_path / "report"
    env = {f"{s.upper()}_URL": u for s, u in urls.items()}
    env["CIVICPULSE_TOKEN"] = served["CIVICPULSE_TOKEN"]
    service_url.cache_clear()  # the services' URLs are read once per process
    try:  # the command itself, in this process (a new interpreter costs ~10 s on CI)
        done = CliRunner().invoke(report, ["assessment", "--month", "2026-10", "--out",
                                           str(out)], env=env)
    finally:
        service_url.cache_clear()
    assert done.exit_code == 0, done.output
    figures = json.loads((out / "assessment-2026-10.json").read_text())
    measures = {m["key"]: m for m in figures["measures"]}
    check_review(measures["review"])
    check_submissions(measures["submissions"])
    check_tickets(measures["tickets"])
    check_statements(measures["statements"])
    check_plan(measures["plan"])
    check_comments(measures["comments"])
    check_notifications(measures["notifications"])
    check_files(out, measures)
    check_status(served, urls)


def check_status(served: dict[str, str], urls: dict[str, str]) -> None:
    """`civicpulse status` on the same running suite (sentiment not started): the
    outbox drains (the seeded month's events reach the bus and the partner queues, which no
    agency reads here), and the table shows the tickets still in work and their overdue plan
    deadlines: September's level IV ticket (none met) and B (level II, not resolved)."""
    down = f"http://127.0.0.1:{free_port()}"
    everyone = {s: urls.get(s, down) for s in SERVICES}

    def settled() -> status.Status | None:
        """RabbitMQ's management API counts a queue's messages and consumers from statistics
        each queue emits every `collect_statistics_interval` (5 s here), one queue at a time:
        a queue showing messages says nothing of another's consumers. So wait for all of it."""
        found = status.gather(everyone, served["AMQP_URI"])
        partners = {q.name: q for q in found.partners}
        drained = all(s.outbox == 0 for s in found.services if s.up)
        consumed = all(sum(q.consumers for q in s.queues) >= 1 for s in found.services
                       if s.name in SERVED)
        return found if drained and consumed and partners.get("partner.cac", EMPTY).messages \
            else None

    found = wait_for(settled, timeout=60)
    states = {s.name: s for s in found.services}
    for name in SERVED:
        assert states[name].up and states[name].ready and states[name].dead_letters == 0
    assert not states["sentiment"].up
    assert {q.name: q.consumers for q in found.partners}["partner.cac"] == 0
    assert found.tickets == {"IV": 1, "II": 1}
    assert found.overdue == {"IV": {"acknowledge": 1, "first_response": 1, "resolve": 1},
                             "II": {"resolve": 1}}
    assert found.review_overdue == 0
    env = {f"{s.upper()}_URL": u for s, u in everyone.items()}
    env["AMQP_URI"] = served["AMQP_URI"]
    service_url.cache_clear()
    try:
        shown = CliRunner().invoke(cli, ["status"], env=env)
    finally:
        service_url.cache_clear()
    assert shown.exit_code == 1, shown.output  # sentiment is down
    lines = shown.output.splitlines()
    assert any(line.split()[:3] == ["review", "yes", "yes"] for line in lines)
    assert any(line.split()[:2] == ["sentiment", "NO"] for line in lines)
    assert any(line.split()[:4] == ["II", "0", "1", "resolve"] for line in lines)


def check_files(out: Path, measures: dict[str, dict[str, Any]]) -> None:
    """The workbook has one sheet per measure holding the same figures; the Markdown shows
    every chart, each a real PNG."""
    book = load_workbook(out / "考评-2026-10.xlsx")
    titles = [m["title"] for m in measures.values()]
    assert book.sheetnames == ["说明", *titles]
    sheet = book[measures["tickets"]["title"]]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["新闻宣传处", 1, 1, 1, 1, 1, 1, 1] in [r[:8] for r in cells]
    text = (out / "考评-2026-10.md").read_text()
    for png in out.glob("*.png"):
        assert f"]({png.name})" in text
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list(out.glob("*.png"))) == len(measures)
