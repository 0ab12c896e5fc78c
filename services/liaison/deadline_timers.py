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

from sqlalchemy import insert, select, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from services.liaison import db, domain, metrics, notices
from services.liaison.config import LiaisonConfig
from services.liaison.handlers import _aware, _share, _ticket_event, _timeline

log = logging.getLogger(__name__)
NOTIFY_NAMES = {"leader_in_charge": "分管领导", "partner_lead": "协同单位负责人"}
DEADLINE_NAMES = {"acknowledge": "签收", "first_response": "首次公开回应", "resolve": "处置完结"}


def due_ids(uow: UnitOfWork, now: datetime, limit: int = 50,
            skip: Collection[int] = ()) -> list[int]:
    query = (select(db.deadlines.c.id).where(db.deadlines.c.fired_at.is_(None),
                                             db.deadlines.c.due_at <= now)
             .order_by(db.deadlines.c.due_at, db.deadlines.c.id).limit(limit))
    if skip:
        query = query.where(db.deadlines.c.id.not_in(list(skip)))
    with uow:
        return list(uow.session.execute(query).scalars())


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
        claimed = uow.session.execute(
            update(db.deadlines).where(db.deadlines.c.id == deadline_id,
                                       db.deadlines.c.fired_at.is_(None))
            .values(fired_at=now).returning(db.deadlines.c.ticket_id, db.deadlines.c.kind,
                                            db.deadlines.c.step)).first()
        if claimed is None:  # someone else fired it
            return None
        tid, kind, step = claimed
        ticket = db.ticket_by_id(uow.session, tid)
        facts = db.facts_of(uow.session, tid)
        deadline_at = _aware(ticket[f"{kind}_due_at"])
        if step == notices.WARNING_STEP:
            return _warn(uow, deadline_id, ticket, kind, deadline_at, facts, now)
        chain = cfg.plan.for_level(ticket["level"]).escalation
        firing = domain.fire(kind, step, deadline_at, chain, facts)
        outcome = "escalated" if firing.breached else "met"
        uow.session.execute(update(db.deadlines).where(db.deadlines.c.id == deadline_id)
                            .values(outcome=outcome))
        if firing.breached:
            _escalate(uow, ticket, kind, step, deadline_at, firing, cfg, now)
        uow.commit()
    if firing.breached and step == 1:
        metrics.DEADLINE_BREACHES.labels(kind, ticket["level"]).inc()
    return {"ticket_id": tid, "kind": kind, "step": step, "outcome": outcome,
            "notify": firing.notify}


def _warn(uow: UnitOfWork, deadline_id: int, ticket: dict[str, Any], kind: str,
          deadline_at: datetime, facts: dict[str, Any], now: datetime
          ) -> dict[str, Any] | None:
    """A deadline's warning row (step 0): `liaison.deadline.near` unless the deadline is met
    already or has passed (the escalation chain speaks then); None when nothing was sent."""
    outcome = "met" if domain.deadline_met(kind, facts) else (
        "late" if deadline_at <= now else "warned")
    uow.session.execute(update(db.deadlines).where(db.deadlines.c.id == deadline_id)
                        .values(outcome=outcome))
    if outcome == "warned":
        notices.deadline_near(uow, ticket, kind, deadline_at, now)
    uow.commit()
    if outcome != "warned":
        return None
    return {"ticket_id": ticket["id"], "kind": kind, "step": notices.WARNING_STEP,
            "outcome": outcome, "notify": None}


def _escalate(uow: UnitOfWork, ticket: dict[str, Any], kind: str, step: int,
              deadline_at: datetime, firing: domain.Firing, cfg: LiaisonConfig,
              now: datetime) -> None:
    tid = ticket["id"]
    agencies = db.agencies_of(uow.session, tid)
    event = _ticket_event("liaison.ticket.overdue", ticket, ticket["status"], None,
                          tlp=firing.tlp or "RED", deadline=kind, step=step, notify=firing.notify,
                          due_at=deadline_at.isoformat(), agencies=agencies)
    uow.publish(event)
    who = NOTIFY_NAMES.get(firing.notify or "", firing.notify)
    _timeline(uow, tid, now, "deadline.escalated",
              f"{DEADLINE_NAMES.get(kind, kind)}时限"
              f"（{deadline_at.isoformat(timespec='minutes')}）已超时，第{step}级督办：通知{who}"
              f"（TLP:{firing.tlp}）", event.id, pinned=True)
    _share(uow, tid, event, agencies, cfg, now)
    if firing.next_step is not None and firing.next_due is not None:
        uow.session.execute(insert(db.deadlines).values(
            ticket_id=tid, kind=kind, step=firing.next_step, due_at=firing.next_due))
