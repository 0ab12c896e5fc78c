"""Reading tickets for staff: the list, one whole ticket (JSON-safe), and the figures the
metrics gauges show on scrape."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from civicpulse.serialize import iso, jsonable
from services.liaison import domain, tickets


def summary(t: domain.Ticket) -> dict[str, Any]:
    """The ticket's own fields, JSON-safe, with its plan deadlines under `deadlines`."""
    out = jsonable({k: v for k, v in asdict(t).items() if k != "due"})
    out["deadlines"] = {k: iso(t.due[k]) for k in domain.DEADLINE_KEYS}
    return out


def list_tickets(uow: UnitOfWork, **filters: Any) -> list[dict[str, Any]]:
    """The tickets matching `filters` (the fields of `domain.TicketQuery`), with their facts."""
    return page_of_tickets(uow, domain.TicketQuery(**filters))[0]


def page_of_tickets(uow: UnitOfWork, query: domain.TicketQuery
                    ) -> tuple[list[dict[str, Any]], int]:
    """One page of the tickets `query` asks for, with their facts, and how many match in all."""
    with uow:
        r = tickets.repos(uow)
        found = r.tickets.list(query)
        total = (len(found) + query.offset if query.limit is None
                 else r.tickets.count(query))
        facts = r.tickets.facts_of([t.id for t in found])
        return [{**summary(t), **met(facts[t.id])} for t in found], total


def met(facts: domain.Facts) -> dict[str, Any]:
    """Which plan deadlines a ticket met, and who commands it (the list's view of its facts)."""
    return {"met": {"acknowledge": facts.acknowledged_at is not None,
                    "first_response": facts.first_response_at is not None,
                    "resolve": facts.resolved_at is not None},
            "commander": facts.commander}


def list_tasks(uow: UnitOfWork, assignee: str, section: str | None = None,
               status: str | None = None, limit: int | None = None, offset: int = 0
               ) -> tuple[list[dict[str, Any]], int]:
    """The tasks a person has on any ticket (their own, and their section's as lead section),
    each with its ticket's title, the earliest due first: one page and how many in all.
    `status`: one, or several joined by commas."""
    statuses = status.split(",") if status else []
    with uow:
        r = tickets.repos(uow).tasks
        found = r.of_person(assignee, section, statuses, limit, offset)
        total = (len(found) + offset if limit is None
                 else r.count_of_person(assignee, section, statuses))
    return [{**jsonable(asdict(task)), "ticket_title": title} for task, title in found], total


def counts_by_level_status(uow: UnitOfWork) -> dict[tuple[str, str], int]:
    with uow:
        return tickets.repos(uow).tickets.count_by_level_status()


def overdue_deadlines(uow: UnitOfWork, now: datetime | None = None
                      ) -> dict[tuple[str, str], int]:
    """(deadline, level) → tickets in work whose plan deadline passed unmet (for the gauge)."""
    with uow:
        return tickets.repos(uow).tickets.count_overdue(now or utcnow())


def _rows(values: list[Any]) -> list[dict[str, Any]]:
    return [jsonable(asdict(v)) for v in values]


def get_ticket(uow: UnitOfWork, ticket_id: str) -> dict[str, Any] | None:
    """The whole ticket, JSON-safe: participants, tasks, timeline (by time), shares."""
    with uow:
        r = tickets.repos(uow)
        t = r.tickets.get(ticket_id)
        if t is None:
            return None
        return {
            **summary(t),
            # the statuses the plan lets it move to now (the console offers these)
            "next_statuses": [st for st in domain.STATUSES if domain.can_transition(t.status, st)],
            "agencies": r.tickets.agencies(ticket_id),
            "participants": _rows(r.tickets.participants(ticket_id)),
            "tasks": _rows(r.tasks.list(ticket_id)),
            "timeline": _rows(r.timeline.entries(ticket_id)),
            "shares": _rows(r.shares.list(ticket_id)),
            "facts": jsonable(r.tickets.facts(ticket_id).as_dict()),
            "timers": _rows(r.timers.list(ticket_id)),
            "meetings": _rows(r.meetings.list(ticket_id)),
        }
