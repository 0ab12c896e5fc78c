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

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event
from services.liaison import db, domain

WARNING_STEP = 0  # the `deadlines` row of a deadline's warning (escalation steps are 1, 2, ...)


def participants(uow: UnitOfWork, ticket_id: str) -> list[dict[str, str]]:
    """Everyone on the ticket: people, the lead section, agencies (party, kind, role)."""
    return [{"party": p.party, "kind": p.kind, "role": p.role}
            for p in db.Tickets(uow.session).participants(ticket_id)]


def _notice(uow: UnitOfWork, type_: str, ticket: domain.Ticket, **extra: Any) -> Envelope:
    event = new_event(type_, {
        "ticket_id": ticket.id, "incident_id": ticket.incident_id,
        "level": ticket.level, "title": ticket.title,
        "lead_section": ticket.lead_section,
        "participants": participants(uow, ticket.id), **extra},
        correlation_id=ticket.incident_id, tlp="RED")
    uow.publish(event)
    return event


def task_assigned(uow: UnitOfWork, ticket: domain.Ticket, task_id: int, title: str,
                  assignee: str, due_at: datetime, by: str,
                  previous: str | None = None) -> Envelope:
    return _notice(uow, "liaison.task.assigned", ticket, task_id=task_id, task=title,
                   assignee=assignee, previous_assignee=previous, due_at=due_at.isoformat(),
                   by=by)


def partner_commented(uow: UnitOfWork, ticket: domain.Ticket, agency: str,
                      agency_name: str, text: str, at: datetime) -> Envelope:
    return _notice(uow, "liaison.partner.commented", ticket, agency=agency,
                   agency_name=agency_name, text=text, at=at.isoformat())


def deadline_near(uow: UnitOfWork, ticket: domain.Ticket, kind: str, due_at: datetime,
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
    timers = db.Timers(uow.session)
    for kind, due_at in due.items():
        at = warning_at(due_at, warn_before, now)
        if at is None:
            continue
        row = timers.step(ticket_id, kind, WARNING_STEP)
        if row is None:
            timers.add(ticket_id, kind, WARNING_STEP, at)
        elif row.fired_at is None:
            timers.move_earlier(row.id, at)
