"""Liaison's events for the people on a ticket (SQLite): a deadline warning fires once and not
for a deadline already met; a task given to someone, and a partner's comment, each record one
event in the outbox with the ticket's participants."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from civicpulse.envelope import new_event, utcnow
from civicpulse.tables import outbox_table
from services.liaison import config, db, incidents, notices, ticket_work
from services.liaison.deadline_timers import fire_due

T0 = utcnow().replace(microsecond=0) - timedelta(hours=1)


def open_ticket(uow: Any, incident: str, level: str = "IV", at: datetime = T0) -> str:
    effect = incidents.open_ticket(uow(), new_event("sentiment.incident.detected", {
        "incident_id": incident, "topic": "deputies", "level": level,
        "detected_at": at.isoformat(), "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=incident, tlp="AMBER"), config.load(), now=at)
    assert effect is not None
    return effect.ticket_id


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def outbox(uow: Any, event_type: str) -> list[dict[str, Any]]:
    with uow() as u:
        rows = u.session.execute(select(outbox_table.c.body).where(
            outbox_table.c.event_type == event_type).order_by(outbox_table.c.id)).scalars()
        return [json.loads(body)["payload"] for body in rows]


def test_warning_time_is_lead_time_before_the_deadline_and_never_in_the_past() -> None:
    due = T0 + timedelta(minutes=60)
    assert notices.warning_at(due, 30, T0) == T0 + timedelta(minutes=30)
    assert notices.warning_at(due, 0, T0) is None           # no lead time configured
    assert notices.warning_at(due, 60, T0) is None          # would be now: too close to warn
    assert notices.warning_at(due, 90, T0) is None


def test_a_deadline_near_is_announced_once_with_the_participants(uow_factory: Any) -> None:
    uow = uow_factory("liaison")
    cfg = config.load()
    warn = cfg.plan.for_level("IV").warn_before
    ack = cfg.plan.for_level("IV").deadlines.acknowledge
    tid = open_ticket(uow, "inc-near")
    ticket_work.assign(uow(), tid, "wang", "commander", "admin", now=T0)
    now = T0 + timedelta(minutes=ack - warn + 1)  # past the acknowledge warning only
    fired = fire_due(uow, cfg, now)
    assert [(f["kind"], f["outcome"]) for f in fired] == [("acknowledge", "warned")]
    (near,) = outbox(uow, "liaison.deadline.near")
    assert near["ticket_id"] == tid and near["deadline"] == "acknowledge"
    assert near["minutes_left"] == warn - 1
    assert {"party": "wang", "kind": "person", "role": "commander"} in near["participants"]
    assert {"party": "新闻宣传处", "kind": "section", "role": "lead"} in near["participants"]
    assert fire_due(uow, cfg, now) == []  # claimed once
    assert len(outbox(uow, "liaison.deadline.near")) == 1


def test_no_warning_for_a_deadline_already_met(uow_factory: Any) -> None:
    uow = uow_factory("liaison")
    cfg = config.load()
    tid = open_ticket(uow, "inc-met")
    ticket_work.acknowledge(uow(), tid, "wang", cfg, now=T0 + timedelta(minutes=1))
    plan = cfg.plan.for_level("IV")
    fire_due(uow, cfg, T0 + timedelta(minutes=plan.deadlines.acknowledge - plan.warn_before
                                       + 1))
    assert outbox(uow, "liaison.deadline.near") == []
    with uow() as u:
        outcome = u.session.execute(select(db.deadlines.c.outcome).where(
            db.deadlines.c.ticket_id == tid, db.deadlines.c.kind == "acknowledge",
            db.deadlines.c.step == notices.WARNING_STEP)).scalar_one()
    assert outcome == "met"


def test_an_escalation_moves_a_pending_warning_earlier(uow_factory: Any) -> None:
    uow = uow_factory("liaison")
    cfg = config.load()
    tid = open_ticket(uow, "inc-up", at=T0)
    at = T0 + timedelta(minutes=1)
    incidents.incident_escalated(uow(), new_event("sentiment.incident.escalated", {
        "incident_id": "inc-up", "level": "II", "previous_level": "IV", "topic": "deputies",
        "detected_at": at.isoformat()}, correlation_id="inc-up", tlp="AMBER"), cfg, now=at)
    with uow() as u:
        ticket = db.Tickets(u.session).get(tid)
        warning = u.session.execute(select(db.deadlines.c.due_at).where(
            db.deadlines.c.ticket_id == tid, db.deadlines.c.kind == "first_response",
            db.deadlines.c.step == notices.WARNING_STEP)).scalar_one()
    assert ticket is not None
    due = ticket.due["first_response"]
    assert aware(warning) == due - timedelta(minutes=cfg.plan.for_level("II").warn_before)


def test_task_assignment_and_reassignment_are_announced(uow_factory: Any) -> None:
    uow = uow_factory("liaison")
    tid = open_ticket(uow, "inc-task")
    due = T0 + timedelta(hours=2)
    task_id = ticket_work.add_task(uow(), tid, "联系记者", "li", due, "wang", now=T0)
    ticket_work.update_task(uow(), tid, task_id, "wang", status="doing", now=T0)  # no new owner
    ticket_work.update_task(uow(), tid, task_id, "wang", owner="zhao", now=T0)
    first, second = outbox(uow, "liaison.task.assigned")
    assert (first["task_id"], first["task"], first["assignee"], first["by"]) == (
        task_id, "联系记者", "li", "wang")
    assert first["previous_assignee"] is None and first["level"] == "IV"
    assert (second["assignee"], second["previous_assignee"]) == ("zhao", "li")
    assert second["due_at"] == due.isoformat()


def test_a_partner_comment_is_announced_and_an_acknowledgement_is_not(uow_factory: Any) -> None:
    uow = uow_factory("liaison")
    cfg = config.load()
    tid = open_ticket(uow, "inc-partner")
    ticket_work.partner_note(uow(), tid, "cac", "partner.ack", "", cfg, now=T0)
    ticket_work.partner_note(uow(), tid, "cac", "partner.comment", "已安排属地核查", cfg, now=T0)
    (comment,) = outbox(uow, "liaison.partner.commented")
    assert (comment["ticket_id"], comment["agency"], comment["text"]) == (
        tid, "cac", "已安排属地核查")
    assert comment["agency_name"] == cfg.agency("cac").name
    assert {"party": "cac", "kind": "agency", "role": "observer"} in comment["participants"]
