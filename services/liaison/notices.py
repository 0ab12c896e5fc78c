"""Events for the people on a ticket (consumed by notify; office-internal, TLP:RED, never
shared): a task given to someone, a deadline about to fall due, a partner's comment.

Each one carries the ticket's participants at that moment, so notify's rules can reach "the
people on the ticket" without asking liaison back (and a redelivered event reaches the same
people). They are recorded with `uow.publish` inside the caller's transaction (the outbox).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event
from services.liaison import db

WARNING_STEP = 0  # the `deadlines` row of a deadline's warning (escalation steps are 1, 2, ...)


def participants(uow: UnitOfWork, ticket_id: str) -> list[dict[str, str]]:
    """Everyone on the ticket: people, the lead section, agencies (party, kind, role)."""
    p = db.participants.c
    rows = uow.session.execute(select(p.party, p.kind, p.role).where(p.ticket_id == ticket_id)
                               .order_by(p.id)).mappings()
    return [dict(r) for r in rows]


def _notice(uow: UnitOfWork, type_: str, ticket: Mapping[str, Any], **extra: Any) -> Envelope:
    event = new_event(type_, {
        "ticket_id": ticket["id"], "incident_id": ticket["incident_id"],
        "level": ticket["level"], "title": ticket["title"],
        "lead_section": ticket["lead_section"],
        "participants": participants(uow, ticket["id"]), **extra},
        correlation_id=ticket["incident_id"], tlp="RED")
    uow.publish(event)
    return event


def task_assigned(uow: UnitOfWork, ticket: Mapping[str, Any], task_id: int, title: str,
                  assignee: str, due_at: datetime, by: str,
                  previous: str | None = None) -> Envelope:
    return _notice(uow, "liaison.task.assigned", ticket, task_id=task_id, task=title,
                   assignee=assignee, previous_assignee=previous, due_at=due_at.isoformat(),
                   by=by)


def partner_commented(uow: UnitOfWork, ticket: Mapping[str, Any], agency: str,
                      agency_name: str, text: str, at: datetime) -> Envelope:
    return _notice(uow, "liaison.partner.commented", ticket, agency=agency,
                   agency_name=agency_name, text=text, at=at.isoformat())


def deadline_near(uow: UnitOfWork, ticket: Mapping[str, Any], kind: str, due_at: datetime,
                  now: datetime) -> Envelope:
    return _notice(uow, "liaison.deadline.near", ticket, deadline=kind,
                   due_at=due_at.isoformat(),
                   minutes_left=round((due_at - now).total_seconds() / 60, 1))


# --- the warning timers: a step-0 row of `deadlines` per deadline -------------------------------

def warning_at(due_at: datetime, warn_before: float, now: datetime) -> datetime | None:
    """When to warn of a deadline due at `due_at` (`warn_before` minutes ahead), or None: no
    warning configured (0), or the moment is already past (a deadline too close to warn of)."""
    if warn_before <= 0:
        return None
    at = due_at - timedelta(minutes=warn_before)
    return at if at > now else None


def schedule_warnings(uow: UnitOfWork, ticket_id: str, due: Mapping[str, datetime],
                      warn_before: float, now: datetime) -> None:
    """Inside the caller's transaction: a warning row per deadline (or moved earlier, when an
    escalation tightened the deadline and the warning has not fired yet)."""
    d = db.deadlines.c
    for kind, due_at in due.items():
        at = warning_at(due_at, warn_before, now)
        if at is None:
            continue
        row = uow.session.execute(select(d.id, d.fired_at, d.due_at).where(
            d.ticket_id == ticket_id, d.kind == kind, d.step == WARNING_STEP)).first()
        if row is None:
            uow.session.execute(db.deadlines.insert().values(
                ticket_id=ticket_id, kind=kind, step=WARNING_STEP, due_at=at))
        elif row.fired_at is None:
            uow.session.execute(update(db.deadlines).where(d.id == row.id, d.due_at > at)
                                .values(due_at=at))
