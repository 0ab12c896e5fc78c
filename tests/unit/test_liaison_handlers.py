"""Liaison use cases on a migrated SQLite database: one ticket per incident, outbox, shares,
timeline, status changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, utcnow
from civicpulse.errors import ContractViolation
from civicpulse.outbox import PARTNER_EXCHANGE
from civicpulse.tables import inbox_table, outbox_table
from services.liaison import (
    config,
    db,
    domain,
    incidents,
    statement,
    ticket_views,
    ticket_work,
    tickets,
)
from services.liaison.config import LiaisonConfig
from services.liaison.service import LiaisonService

INC = "inc-0001"
UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def cfg() -> LiaisonConfig:
    return config.load()


@pytest.fixture
def uow(uow_factory: Callable[[str], UowFactory]) -> UowFactory:
    return uow_factory("liaison")


def detected(level: str = "III", incident: str = INC, tlp: str = "AMBER") -> Envelope:
    return new_event("sentiment.incident.detected", {
        "incident_id": incident, "topic": "legislation", "level": level,
        "detected_at": "2025-03-01T09:00:00+00:00", "negative_count": 30, "volume": 40,
        "negative_ratio": 0.75}, correlation_id=incident, tlp=tlp)


def outbox_rows(uow: UowFactory) -> list[dict[str, Any]]:
    with uow() as u:
        return [dict(r) for r in u.session.execute(
            select(outbox_table).order_by(outbox_table.c.id)).mappings()]


def count(uow: UowFactory, table: Any) -> int:
    with uow() as u:
        return u.session.execute(select(func.count()).select_from(table)).scalar_one()


def opened(uow: UowFactory, cfg: LiaisonConfig, level: str = "III") -> dict[str, Any]:
    effect = incidents.open_ticket(uow(), detected(level), cfg)
    assert effect is not None
    ticket = ticket_views.get_ticket(uow(), effect.ticket_id)
    assert ticket is not None
    return ticket


# --- opening: exactly one ticket --------------------------------------------------------------

def test_same_event_twice_opens_one_ticket(uow: UowFactory, cfg: LiaisonConfig) -> None:
    event = detected()
    first = incidents.open_ticket(uow(), event, cfg)
    again = incidents.open_ticket(uow(), event, cfg)
    assert first is not None and again is None
    assert count(uow, db.tickets) == 1
    assert len(outbox_rows(uow)) == 1 + 2 + 1  # opened, two shares (III), statement request


def test_two_events_for_one_incident_open_one_ticket(uow: UowFactory, cfg: LiaisonConfig
                                                     ) -> None:
    assert incidents.open_ticket(uow(), detected(), cfg) is not None
    assert incidents.open_ticket(uow(), detected(), cfg) is None
    assert count(uow, db.tickets) == 1
    assert count(uow, inbox_table) == 2  # both events are marked handled
    assert incidents.open_ticket(uow(), detected(incident="inc-0002"), cfg) is not None
    assert count(uow, db.tickets) == 2


def test_opening_applies_the_plan(uow: UowFactory, cfg: LiaisonConfig) -> None:
    t = opened(uow, cfg, "III")
    assert (t["incident_id"], t["level"], t["topic"]) == (INC, "III", "legislation")
    assert t["status"] == "responding"  # the statement was requested
    assert t["lead_section"] == "新闻宣传处"
    assert t["agencies"] == ["cac", "propaganda"]
    assert set(t["deadlines"]) == {"acknowledge", "first_response", "resolve"}
    assert [(p["party"], p["kind"], p["role"]) for p in t["participants"]] == [
        ("新闻宣传处", "section", "lead"), ("cac", "agency", "observer"),
        ("propaganda", "agency", "observer")]
    assert {x["title"] for x in t["tasks"]} == {"研判", "口径", "网信联动"}
    assert all(x["due_at"] and x["status"] == "todo" for x in t["tasks"])
    assert [e["kind"] for e in t["timeline"]] == [
        "ticket.opened", "shared", "shared", "statement.requested"]
    json.dumps(t)  # JSON-safe


def test_outbox_holds_opened_shares_and_statement_request(uow: UowFactory, cfg: LiaisonConfig
                                                          ) -> None:
    t = opened(uow, cfg, "III")
    rows = outbox_rows(uow)
    own = [r for r in rows if r["exchange"] == "liaison.events"]
    partner = [r for r in rows if r["exchange"] == PARTNER_EXCHANGE]
    assert [r["routing_key"] for r in own] == ["liaison.ticket.opened",
                                              "liaison.statement.requested"]
    assert sorted(r["routing_key"] for r in partner) == ["cac", "propaganda"]
    assert all(r["correlation_id"] == INC for r in rows)
    body = json.loads(own[0]["body"])
    assert body["tlp"] == "AMBER" and body["payload"]["ticket_id"] == t["id"]
    assert body["payload"]["agencies"] == ["cac", "propaganda"]
    request = json.loads(own[1]["body"])
    assert request["payload"]["due_at"] == t["deadlines"]["first_response"]
    assert request["causation_id"] == body["causation_id"]  # both caused by the detection
    assert {json.loads(r["body"])["id"] for r in partner} == {body["id"]}


def test_shares_are_recorded_per_agency(uow: UowFactory, cfg: LiaisonConfig) -> None:
    t = opened(uow, cfg, "I")
    assert [(s["agency"], s["event_type"], s["tlp"]) for s in t["shares"]] == [
        (a, "liaison.ticket.opened", "AMBER") for a in ("cac", "propaganda", "media",
                                                        "govpress")]


def test_no_statement_no_request(uow: UowFactory) -> None:
    base = config.load()
    plan = domain.Plan({lv: domain.LevelPlan(
        lp.level, lp.lead_section, lp.agencies, lp.deadlines, lp.tasks, False)
        for lv, lp in base.plan.levels.items()})
    cfg = LiaisonConfig(base.agencies, plan)
    t = opened(uow, cfg, "IV")
    assert t["status"] == "open"
    assert "statement.requested" not in [e["kind"] for e in t["timeline"]]
    assert [r["event_type"] for r in outbox_rows(uow)] == ["liaison.ticket.opened"] * 2


# --- sharing by TLP ---------------------------------------------------------------------------

@pytest.mark.parametrize("tlp,type_,expected", [
    ("RED", "liaison.ticket.closed", []),
    ("AMBER", "liaison.ticket.closed", ["cac", "propaganda"]),
    ("GREEN", "liaison.statement.published", ["propaganda", "cac", "media", "govpress"]),
])
def test_share_follows_tlp(uow: UowFactory, cfg: LiaisonConfig, tlp: str, type_: str,
                           expected: list[str]) -> None:
    t = opened(uow, cfg, "III")
    event = new_event(type_, {"ticket_id": t["id"], "incident_id": INC, "status": "closed",
                              "title": "x"}, correlation_id=INC, tlp=tlp)
    with uow() as u:
        shared = tickets.share(u, t["id"], event, t["agencies"], cfg, utcnow())
        u.commit()
    assert list(shared) == expected
    with uow() as u:
        rows = u.session.execute(select(db.shares.c.agency).where(
            db.shares.c.event_id == event.id).order_by(db.shares.c.id)).scalars().all()
    assert rows == expected
    keys = [r["routing_key"] for r in outbox_rows(uow) if r["event_type"] == event.type]
    assert keys == expected


@pytest.mark.parametrize("tlp", ["GREEN", "CLEAR"])
def test_an_event_is_shared_only_at_a_tlp_its_contract_declares(
        uow: UowFactory, cfg: LiaisonConfig, tlp: str) -> None:
    """The partner catalogue is generated from the contracts' `partner_tlp`: an event at a TLP
    its contract does not declare (here an AMBER ticket event marked GREEN) is refused, so
    nothing reaches a partner that the catalogue does not describe."""
    t = opened(uow, cfg, "III")
    event = new_event("liaison.ticket.closed", {"ticket_id": t["id"], "incident_id": INC,
                                                "status": "closed"}, correlation_id=INC, tlp=tlp)
    with uow() as u, pytest.raises(ContractViolation, match="partner catalogue"):
        tickets.share(u, t["id"], event, t["agencies"], cfg, utcnow())


# --- the statement's way: timeline --------------------------------------------------------------

def chain(incident: str = INC) -> list[Envelope]:
    item = {"item_id": "item-1", "revision": 1, "kind": "statement",
            "title": "关于立法意见征集的说明"}
    case = {"case_id": "case-1", "item_id": "item-1", "revision": 1}
    return [
        new_event("news.item.submitted", {**item, "body": "…", "author": "press",
                                          "content_hash": "h", "ticket_id": "t"},
                  correlation_id=incident),
        new_event("review.case.opened", {**case, "workflow": "default", "stage": "section_head"},
                  correlation_id=incident),
        *[new_event("review.stage.approved", {**case, "stage": s, "reviewer": f"r-{s}"},
                    correlation_id=incident)
          for s in ("section_head", "leader_in_charge", "principal")],
        new_event("review.case.approved", {**case, "reference_no": "RD-2025-001",
                                           "content_hash": "h"}, correlation_id=incident),
    ]


def test_review_and_news_steps_land_on_the_timeline(uow: UowFactory, cfg: LiaisonConfig
                                                    ) -> None:
    t = opened(uow, cfg)
    for event in chain():
        assert statement.record_step(uow(), event) is not None
        assert statement.record_step(uow(), event) is None  # duplicate: inbox
    published = new_event("news.item.published", {
        "item_id": "item-1", "revision": 1, "kind": "statement", "title": "说明",
        "channels": ["website", "wechat"]}, correlation_id=INC)
    effect = statement.statement_published(uow(), published, cfg)
    assert effect is not None and effect.status == "monitoring"
    assert statement.statement_published(uow(), published, cfg) is None
    after = ticket_views.get_ticket(uow(), t["id"])
    assert after is not None and after["status"] == "monitoring"
    public = [s for s in after["shares"] if s["event_type"] == "liaison.statement.published"]
    assert {s["agency"] for s in public} == set(cfg.directory)  # GREEN: every agency
    assert {s["tlp"] for s in public} == {"GREEN"}
    kinds = [e["kind"] for e in after["timeline"] if e["kind"] != "shared"][2:]
    assert kinds == ["statement.submitted", "review.opened", "review.stage_approved",
                     "review.stage_approved", "review.stage_approved", "review.approved",
                     "statement.published"]
    stage_texts = [e["text"] for e in after["timeline"] if e["kind"] == "review.stage_approved"]
    assert "leader_in_charge" in stage_texts[1] and "分管领导" in stage_texts[1]
    assert all(e["event_id"] for e in after["timeline"])


def test_returned_and_rejected(uow: UowFactory, cfg: LiaisonConfig) -> None:
    t = opened(uow, cfg)
    case = {"case_id": "case-1", "item_id": "item-1", "revision": 1, "stage": "principal",
            "comment": "措辞需斟酌"}
    for type_ in ("review.case.returned", "review.case.rejected"):
        statement.record_step(uow(), new_event(type_, case, correlation_id=INC))
    after = ticket_views.get_ticket(uow(), t["id"])
    assert after is not None
    assert [e["kind"] for e in after["timeline"]][-2:] == ["review.returned", "review.rejected"]
    assert "措辞需斟酌" in after["timeline"][-1]["text"]


def test_an_overdue_review_stage_lands_on_the_timeline(uow: UowFactory,
                                                       cfg: LiaisonConfig) -> None:
    t = opened(uow, cfg)
    overdue = new_event("review.stage.overdue", {
        "case_id": "case-1", "item_id": "item-1", "revision": 1, "stage": "leader_in_charge",
        "due_at": "2026-11-27T10:30:00+00:00", "escalated_to": ["li", "zhao"]},
        correlation_id=INC)
    assert statement.record_step(uow(), overdue) is not None
    assert statement.record_step(uow(), overdue) is None  # redelivered: once
    after = ticket_views.get_ticket(uow(), t["id"])
    assert after is not None
    last = after["timeline"][-1]
    assert last["kind"] == "review.overdue"
    assert "分管领导" in last["text"] and "li、zhao" in last["text"]


def test_events_of_other_chains_are_ignored(uow: UowFactory, cfg: LiaisonConfig) -> None:
    opened(uow, cfg)
    for event in chain(incident="item-unrelated"):
        assert statement.record_step(uow(), event) is None
    assert count(uow, db.timeline) == 4


# --- the incident moves -----------------------------------------------------------------------

def escalated(level: str, previous: str) -> Envelope:
    return new_event("sentiment.incident.escalated", {
        "incident_id": INC, "topic": "legislation", "level": level, "previous_level": previous},
        correlation_id=INC, tlp="AMBER")


def test_escalation_adds_agencies_and_shares_with_them(uow: UowFactory, cfg: LiaisonConfig
                                                       ) -> None:
    t = opened(uow, cfg, "III")
    event = escalated("I", "III")
    effect = incidents.incident_escalated(uow(), event, cfg)
    assert effect is not None
    assert incidents.incident_escalated(uow(), event, cfg) is None
    after = ticket_views.get_ticket(uow(), t["id"])
    assert after is not None
    assert after["level"] == "I"
    assert after["agencies"] == ["cac", "propaganda", "media", "govpress"]
    esc = [s["agency"] for s in after["shares"] if s["event_type"] == "liaison.ticket.escalated"]
    assert esc == ["cac", "propaganda", "media", "govpress"]
    assert "incident.escalated" in [e["kind"] for e in after["timeline"]]
    body = next(json.loads(r["body"]) for r in outbox_rows(uow)
                if r["event_type"] == "liaison.ticket.escalated"
                and r["exchange"] == "liaison.events")
    assert body["payload"]["added_agencies"] == ["media", "govpress"]
    assert body["causation_id"] == event.id


def test_weaker_escalation_changes_nothing(uow: UowFactory, cfg: LiaisonConfig) -> None:
    t = opened(uow, cfg, "II")
    incidents.incident_escalated(uow(), escalated("III", "IV"), cfg)
    after = ticket_views.get_ticket(uow(), t["id"])
    assert after is not None and after["level"] == "II"
    assert after["timeline"][-1]["kind"] == "incident.escalated"


def subsided() -> Envelope:
    return new_event("sentiment.incident.subsided", {
        "incident_id": INC, "topic": "legislation", "level": "III", "negative_ratio": 0.1},
        correlation_id=INC, tlp="GREEN")


def test_subsided_resolves_a_monitored_ticket(uow: UowFactory, cfg: LiaisonConfig) -> None:
    t = opened(uow, cfg, "III")
    ticket_work.change_status(uow(), t["id"], "monitoring", "duty-officer", cfg)
    effect = incidents.incident_subsided(uow(), subsided(), cfg)
    assert effect is not None and effect.status == "resolved"
    after = ticket_views.get_ticket(uow(), t["id"])
    assert after is not None and after["status"] == "resolved"
    assert after["timeline"][-3]["kind"] == "incident.subsided"
    assert any(r["event_type"] == "liaison.ticket.resolved" and r["exchange"] == "liaison.events"
               for r in outbox_rows(uow))


def test_subsided_while_responding_only_notes_it(uow: UowFactory, cfg: LiaisonConfig) -> None:
    t = opened(uow, cfg, "III")
    effect = incidents.incident_subsided(uow(), subsided(), cfg)
    assert effect is not None and effect.status == "responding"
    assert not any(r["event_type"] == "liaison.ticket.resolved" for r in outbox_rows(uow))
    after = ticket_views.get_ticket(uow(), t["id"])
    assert after is not None and after["timeline"][-1]["kind"] == "incident.subsided"


# --- staff move a ticket --------------------------------------------------------------------

def test_change_status(uow: UowFactory) -> None:
    base = config.load()
    plan = domain.Plan({lv: domain.LevelPlan(
        lp.level, lp.lead_section, lp.agencies, lp.deadlines, lp.tasks, False)
        for lv, lp in base.plan.levels.items()})
    cfg = LiaisonConfig(base.agencies, plan)
    t = opened(uow, cfg, "IV")
    effect = ticket_work.change_status(uow(), t["id"], "acknowledged", "张三", cfg)
    assert effect.status == "acknowledged" and effect.shared == ("cac",)
    ack = next(json.loads(r["body"]) for r in outbox_rows(uow)
               if r["event_type"] == "liaison.ticket.acknowledged")
    assert ack["payload"]["by"] == "张三"
    with pytest.raises(domain.InvalidTransition):
        ticket_work.change_status(uow(), t["id"], "closed", "张三", cfg)
    with pytest.raises(tickets.TicketNotFound):
        ticket_work.change_status(uow(), "tkt-nope", "acknowledged", "张三", cfg)
    after = ticket_views.get_ticket(uow(), t["id"])
    assert after is not None and after["status"] == "acknowledged"
    assert after["timeline"][-2]["kind"] == "status.changed"


def test_list_tickets_filters(uow: UowFactory, cfg: LiaisonConfig) -> None:
    opened(uow, cfg)
    incidents.open_ticket(uow(), detected(incident="inc-0002"), cfg)
    assert len(ticket_views.list_tickets(uow())) == 2
    assert [t["incident_id"] for t in ticket_views.list_tickets(uow(), incident_id=INC)] == [INC]
    assert ticket_views.list_tickets(uow(), status="closed") == []
    assert ticket_views.get_ticket(uow(), "tkt-nope") is None


def test_a_ticket_list_is_filtered_ordered_by_urgency_and_paged(uow: UowFactory,
                                                               cfg: LiaisonConfig) -> None:
    ids = {}
    for n, level in enumerate(("IV", "I", "III", "II")):
        effect = incidents.open_ticket(uow(), detected(level, incident=f"inc-p{n}"), cfg)
        assert effect is not None
        ids[level] = effect.ticket_id
    ticket_work.acknowledge(uow(), ids["I"], "张三", cfg)  # its next deadline: first response
    for status in ("monitoring", "resolved"):  # level IV tickets open already responding
        ticket_work.change_status(uow(), ids["IV"], status, "张三", cfg)
    ticket_work.assign(uow(), ids["II"], "李四", "commander", "张三")

    def listed(**query: Any) -> list[str]:
        return [t["id"] for t in ticket_views.list_tickets(uow(), **query)]

    def next_due(tid: str) -> str:
        t = next(t for t in ticket_views.list_tickets(uow()) if t["id"] == tid)
        return min(due for key, due in t["deadlines"].items() if not t["met"][key])

    in_work = [ids["I"], ids["III"], ids["II"]]
    by_due = sorted(in_work, key=next_due)
    assert listed(in_work=True, order="due") == by_due
    assert listed(order="due")[-1] == ids["IV"]  # every deadline met or past: last
    assert listed(in_work=True, order="due", limit=2) == by_due[:2]
    page, total = ticket_views.page_of_tickets(uow(), domain.TicketQuery(
        in_work=True, order="due", limit=2, offset=2))
    assert [t["id"] for t in page] == by_due[2:] and total == 3
    assert listed(commander="李四") == [ids["II"]]
    assert listed(level="III") == [ids["III"]]
    assert set(listed(agency="govpress")) <= {ids["I"], ids["II"]}
    assert listed(agency="govpress") and not listed(agency="nobody")
    section = next(t for t in ticket_views.list_tickets(uow()))["lead_section"]
    assert set(listed(lead_section=section)) <= set(ids.values())
    assert listed(lead_section="无此处室") == []


def test_a_persons_tasks_are_filtered_by_status_paged_and_counted(uow: UowFactory,
                                                                   cfg: LiaisonConfig) -> None:
    t = opened(uow, cfg, "I")
    section = t["lead_section"]
    every, total = ticket_views.list_tasks(uow(), "nobody", section)
    assert total == len(every) > 1, "the plan gives the lead section tasks"
    dues = [task["due_at"] for task in every]
    assert dues == sorted(dues)
    first, total = ticket_views.list_tasks(uow(), "nobody", section, "todo,doing", limit=1)
    assert [task["id"] for task in first] == [every[0]["id"]] and total == len(every)
    assert ticket_views.list_tasks(uow(), "nobody", section, "done") == ([], 0)
    assert ticket_views.list_tasks(uow(), "nobody", None) == ([], 0)


def test_incident_events_before_the_ticket_are_retried(uow: UowFactory, cfg: LiaisonConfig
                                                       ) -> None:
    with pytest.raises(tickets.TicketNotOpenYet):
        incidents.incident_escalated(uow(), escalated("II", "III"), cfg)
    with pytest.raises(tickets.TicketNotOpenYet):
        incidents.incident_subsided(uow(), subsided(), cfg)
    assert count(uow, inbox_table) == 0  # not marked: the retry will apply them


# --- payloads carry their keys: news/review events name their ticket, sentiment events their
# incident; events from before `ticket_id` are matched by correlation id ----------------------

def open_one(uow: UowFactory, cfg: LiaisonConfig, incident: str = INC) -> str:
    effect = incidents.open_ticket(uow(), new_event("sentiment.incident.detected", {
        "incident_id": incident, "topic": "legislation", "level": "III",
        "detected_at": "2025-03-01T09:00:00+00:00", "negative_count": 30, "volume": 40,
        "negative_ratio": 0.75}, correlation_id=incident), cfg)
    assert effect is not None
    return effect.ticket_id


def kinds(uow: UowFactory, ticket_id: str) -> list[str]:
    t = ticket_views.get_ticket(uow(), ticket_id)
    assert t is not None
    return [e["kind"] for e in t["timeline"]]


CASE = {"case_id": "case-1", "item_id": "item-1", "revision": 1, "workflow": "default",
        "stage": "section_head"}


def test_a_review_step_finds_its_ticket_by_the_ticket_id_it_carries(
        uow: UowFactory, cfg: LiaisonConfig) -> None:
    open_one(uow, cfg, "inc-other")
    tid = open_one(uow, cfg)
    # the correlation id is a tracing field: here it names the *other* incident
    event = new_event("review.case.opened", {**CASE, "ticket_id": tid},
                      correlation_id="inc-other")
    effect = statement.record_step(uow(), event)
    assert effect is not None and effect.ticket_id == tid
    assert "review.opened" in kinds(uow, tid)


def test_an_event_without_ticket_id_is_matched_by_its_correlation_id(
        uow: UowFactory, cfg: LiaisonConfig) -> None:
    tid = open_one(uow, cfg)
    event = new_event("review.case.opened", dict(CASE), correlation_id=INC, version=1)
    assert "ticket_id" not in event.payload  # v1: from before the key was added
    effect = statement.record_step(uow(), event)
    assert effect is not None and effect.ticket_id == tid


def test_an_event_naming_no_ticket_and_no_incident_is_ignored(
        uow: UowFactory, cfg: LiaisonConfig) -> None:
    open_one(uow, cfg)
    event = new_event("review.case.opened", {**CASE, "ticket_id": None},
                      correlation_id="item-without-ticket")
    assert statement.record_step(uow(), event) is None


def test_the_published_statement_moves_the_ticket_its_ticket_id_names(
        uow: UowFactory, cfg: LiaisonConfig) -> None:
    tid = open_one(uow, cfg)
    published = new_event("news.item.published", {
        "item_id": "item-1", "revision": 1, "kind": "statement", "title": "说明",
        "channels": ["website"], "ticket_id": tid}, correlation_id="trace-123")
    effect = statement.statement_published(uow(), published, cfg)
    assert effect is not None and (effect.ticket_id, effect.status) == (tid, "monitoring")


def test_sentiment_events_find_the_ticket_by_their_incident_id(
        uow: UowFactory, cfg: LiaisonConfig) -> None:
    tid = open_one(uow, cfg)
    escalated = new_event("sentiment.incident.escalated", {
        "incident_id": INC, "topic": "legislation", "level": "II", "previous_level": "III"},
        correlation_id="trace-456")
    effect = incidents.incident_escalated(uow(), escalated, cfg)
    assert effect is not None and effect.ticket_id == tid
    orphan = new_event("sentiment.incident.subsided", {
        "incident_id": "inc-unknown", "topic": "legislation", "level": "II",
        "negative_ratio": 0.1}, correlation_id=INC)
    with pytest.raises(tickets.TicketNotOpenYet):
        incidents.incident_subsided(uow(), orphan, cfg)


def test_liaisons_own_events_carry_the_ticket_id(uow: UowFactory, cfg: LiaisonConfig) -> None:
    tid = open_one(uow, cfg)
    with uow() as u:
        bodies = [json.loads(b) for b in u.session.execute(select(outbox_table.c.body))
                  .scalars()]
    own = [b for b in bodies if b["type"].startswith("liaison.")]
    assert {b["type"] for b in own} >= {"liaison.ticket.opened", "liaison.statement.requested"}
    assert all(b["payload"]["ticket_id"] == tid for b in own)


def test_the_statement_steps_are_one_entrypoint() -> None:
    types = sorted(e.event_type for e in LiaisonService.on_statement_step.nameko_entrypoints)
    assert types == sorted(statement.STEP_TYPES)
    assert len(types) == 7
