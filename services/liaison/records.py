"""Liaison's raw records of a period (`GET /records`, admin only), for the assessment report:
every ticket opened in `[since, until)` with its plan deadlines, when each was met and by whom,
and when its statement was requested and published (from the ticket's own timeline)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from civicpulse import records
from civicpulse.db import UnitOfWork
from services.liaison import domain, tickets

TICKET_COLUMNS = ("id", "incident_id", "level", "status", "lead_section", "opened_at")
FACT_COLUMNS = ("acknowledged_at", "first_response_at", "resolved_at", "closed_at")
TIMELINE_KINDS = ("ticket.acknowledged", "status.changed", "statement.requested",
                  "statement.published")


def _row(ticket: domain.Ticket, facts: domain.Facts) -> dict[str, Any]:
    fields, known = asdict(ticket), facts.as_dict()
    return {**{c: fields[c] for c in TICKET_COLUMNS},
            **{f"{k}_due_at": ticket.due[k] for k in domain.DEADLINE_KEYS},
            **{c: known[c] for c in FACT_COLUMNS}}


def period_records(uow: UnitOfWork, since: datetime, until: datetime) -> dict[str, Any]:
    with uow:
        r = tickets.repos(uow)
        found = [_row(t, r.tickets.facts(t.id)) for t in r.tickets.opened_between(since, until)]
        steps = [{"ticket_id": e.ticket_id, "kind": e.kind, "at": e.at, "author": e.author}
                 for e in r.timeline.of_kinds([x["id"] for x in found], TIMELINE_KINDS)]
    for ticket in found:
        ticket.update(who_and_when([x for x in steps if x["ticket_id"] == ticket["id"]],
                                   ticket))
    return records.answer("liaison", since, until, tickets=found)


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
