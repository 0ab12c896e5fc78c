"""Durable deadline timers: rows in `deadlines`, scanned by the service's @timer.

Firing one row is one unit of work: claim it (`UPDATE ... SET fired_at WHERE fired_at IS NULL
RETURNING id`; a row another container or an earlier run already claimed returns nothing),
decide with the plan's escalation chain, record the `liaison.ticket.overdue` event, its share,
the timeline entry and the next step, and commit — all or nothing. A restart before the commit
leaves the row unfired (it fires on the next scan); after the commit it is never fired again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from services.liaison import domain, messages, metrics, notices, tickets
from services.liaison.config import LiaisonConfig

log = logging.getLogger(__name__)


def due_ids(uow: UnitOfWork, now: datetime, limit: int = 50,
            skip: Collection[int] = ()) -> list[int]:
    with uow:
        return tickets.repos(uow).timers.due_ids(now, limit, skip)


def fire_due(uows: Callable[[], UnitOfWork], cfg: LiaisonConfig,
             now: datetime | None = None) -> list[dict[str, Any]]:
    """Fire every due deadline step, each in its own transaction; return what was fired.

    A row that fails (its transaction rolled back, the row left unfired for the next scan) is
    logged and passed over: it never holds up the deadlines after it, however many fail."""
    now = now or utcnow()
    fired: list[dict[str, Any]] = []
    failed: set[int] = set()
    while ids := due_ids(uows(), now, skip=failed):
        for deadline_id in ids:
            try:
                result = fire_one(uows(), deadline_id, cfg, now)
            except Exception:  # noqa: BLE001 - one bad row must not stop the others
                log.exception("deadline %s could not fire; it is retried on the next scan",
                              deadline_id)
                failed.add(deadline_id)
                continue
            if result is not None:
                fired.append(result)
    return fired


def fire_one(uow: UnitOfWork, deadline_id: int, cfg: LiaisonConfig,
             now: datetime) -> dict[str, Any] | None:
    with uow:
        r = tickets.repos(uow)
        claimed = r.timers.claim(deadline_id, now)
        if claimed is None:  # someone else fired it
            return None
        tid, kind, step = claimed
        ticket = tickets.get(uow, tid)
        deadline_at = ticket.due[kind]
        facts = r.tickets.facts(tid).as_dict()
        if step == notices.WARNING_STEP:
            return _warn(uow, deadline_id, ticket, kind, deadline_at, facts, now)
        chain = cfg.plan.for_level(ticket.level).escalation
        firing = domain.fire(kind, step, deadline_at, chain, facts)
        outcome = "escalated" if firing.breached else "met"
        r.timers.set_outcome(deadline_id, outcome)
        if firing.breached:
            _escalate(uow, ticket, kind, step, deadline_at, firing, cfg, now)
        uow.commit()
    if firing.breached and step == 1:
        metrics.DEADLINE_BREACHES.labels(kind, ticket.level).inc()
    return {"ticket_id": tid, "kind": kind, "step": step, "outcome": outcome,
            "notify": firing.notify}


def _warn(uow: UnitOfWork, deadline_id: int, ticket: domain.Ticket, kind: str,
          deadline_at: datetime, facts: dict[str, Any], now: datetime
          ) -> dict[str, Any] | None:
    """A deadline's warning row (step 0): `liaison.deadline.near` unless the deadline is met
    already or has passed (the escalation chain speaks then); None when nothing was sent."""
    outcome = "met" if domain.deadline_met(kind, facts) else (
        "late" if deadline_at <= now else "warned")
    tickets.repos(uow).timers.set_outcome(deadline_id, outcome)
    if outcome == "warned":
        notices.deadline_near(uow, ticket, kind, deadline_at, now)
    uow.commit()
    if outcome != "warned":
        return None
    return {"ticket_id": ticket.id, "kind": kind, "step": notices.WARNING_STEP,
            "outcome": outcome, "notify": None}


def _escalate(uow: UnitOfWork, ticket: domain.Ticket, kind: str, step: int,
              deadline_at: datetime, firing: domain.Firing, cfg: LiaisonConfig,
              now: datetime) -> None:
    agencies = tickets.repos(uow).tickets.agencies(ticket.id)
    event = tickets.event("liaison.ticket.overdue", ticket, ticket.status, None,
                          tlp=firing.tlp or "RED", deadline=kind, step=step,
                          notify=firing.notify, due_at=deadline_at.isoformat(),
                          agencies=agencies)
    uow.publish(event)
    tickets.note(uow, ticket.id, now, "deadline.escalated",
                 messages.deadline_escalated(kind, deadline_at, step, firing.notify, firing.tlp),
                 event.id, pinned=True)
    tickets.share(uow, ticket.id, event, agencies, cfg, now)
    if firing.next_step is not None and firing.next_due is not None:
        tickets.repos(uow).timers.add(ticket.id, kind, firing.next_step, firing.next_due)
