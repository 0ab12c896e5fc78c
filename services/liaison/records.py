"""Liaison's raw records of a period (`GET /records`, admin only), for the assessment report:
every ticket opened in `[since, until)` with its plan deadlines, when each was met and by whom,
and when its statement was requested and published (from the ticket's own timeline)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from civicpulse import records
from civicpulse.db import UnitOfWork
from services.liaison import db

TICKET_COLUMNS = ("id", "incident_id", "level", "status", "lead_section", "opened_at",
                  "acknowledge_due_at", "first_response_due_at", "resolve_due_at")
FACT_COLUMNS = ("acknowledged_at", "first_response_at", "resolved_at", "closed_at")
TIMELINE_KINDS = ("ticket.acknowledged", "status.changed", "statement.requested",
                  "statement.published")


def period_records(uow: UnitOfWork, since: datetime, until: datetime) -> dict[str, Any]:
    t, f = db.tickets.c, db.ticket_facts.c
    with uow:
        s = uow.session
        tickets = [dict(r) for r in s.execute(
            select(*(t[c] for c in TICKET_COLUMNS), *(f[c] for c in FACT_COLUMNS))
            .select_from(db.tickets.outerjoin(db.ticket_facts, f.ticket_id == t.id))
            .where(t.opened_at >= since, t.opened_at < until)
            .order_by(t.opened_at, t.id)).mappings()]
        steps = [dict(r) for r in s.execute(
            select(db.timeline.c.ticket_id, db.timeline.c.kind, db.timeline.c.at,
                   db.timeline.c.author)
            .where(db.timeline.c.ticket_id.in_([x["id"] for x in tickets]),
                   db.timeline.c.kind.in_(TIMELINE_KINDS))
            .order_by(db.timeline.c.at, db.timeline.c.id)).mappings()]
    for ticket in tickets:
        ticket.update(who_and_when([x for x in steps if x["ticket_id"] == ticket["id"]],
                                   ticket))
    return records.answer("liaison", since, until, tickets=tickets)


def who_and_when(steps: list[dict[str, Any]], ticket: dict[str, Any]) -> dict[str, Any]:
    """Who acknowledged and who resolved the ticket (the timeline row written with the fact, at
    the same instant), and when its statement was first requested and published."""
    at = {k: records.aware(ticket.get(k)) for k in ("acknowledged_at", "resolved_at")}

    def author(fact: str, kinds: tuple[str, ...]) -> str | None:
        return next((x["author"] for x in steps if x["kind"] in kinds
                     and at[fact] is not None and records.aware(x["at"]) == at[fact]), None)

    def first(kind: str) -> datetime | None:
        return next((x["at"] for x in steps if x["kind"] == kind), None)

    return {"acknowledged_by": author("acknowledged_at", ("ticket.acknowledged",
                                                          "status.changed")),
            "resolved_by": author("resolved_at", ("status.changed",)),
            "statement_requested_at": first("statement.requested"),
            "statement_published_at": first("statement.published")}
