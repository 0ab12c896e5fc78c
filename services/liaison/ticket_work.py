"""What people do on a ticket: staff (assign, acknowledge, tasks, comments, pins, agencies,
lessons) and partner agencies (acknowledge, comment). Each call is one unit of work."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_id, parse, utcnow
from services.liaison import db, domain, metrics, notices, partner_accounts
from services.liaison.config import LiaisonConfig
from services.liaison.handlers import (
    Effect,
    TicketNotFound,
    _announce,
    _aware,
    _deliver,
    _move,
    _share,
    _ticket_event,
    _timeline,
    set_fact,
)

ROLES = ("commander", "liaison_officer", "scribe", "partner_observer", "lead", "observer")


class NotShared(PermissionError):
    """The partner's agency is not on the ticket and nothing of it was shared with it."""


class UnknownAgency(ValueError):
    pass


def _ticket(uow: UnitOfWork, ticket_id: str) -> dict[str, Any]:
    t = db.ticket_by_id(uow.session, ticket_id)
    if t is None:
        raise TicketNotFound(ticket_id)
    return t


# --- agencies and backfill ------------------------------------------------------------------

def resolve_agencies(cfg: LiaisonConfig, names: list[str] | tuple[str, ...]
                     ) -> tuple[str, ...]:
    """Agency codes and sharing groups (`core` or `group:core`) → active agency codes, in
    order, each once; UnknownAgency naming every name that is neither."""
    codes: list[str] = []
    unknown: list[str] = []
    for name in names:
        try:
            codes.extend(cfg.resolve(name))
        except domain.UnknownGroup:
            unknown.append(name)
    if unknown:
        raise UnknownAgency(", ".join(unknown))
    return tuple(dict.fromkeys(codes))


def add_agency(uow: UnitOfWork, ticket_id: str, agency: str, by: str, cfg: LiaisonConfig,
               now: datetime | None = None) -> Effect:
    """Put an agency, or every member of a sharing group, on a ticket and send each one what
    it missed (AMBER/GREEN/CLEAR shares), once: members already on the ticket are skipped."""
    now = now or utcnow()
    codes = resolve_agencies(cfg, [agency])
    via = "" if codes == (agency,) else f"，共享组 {agency.removeprefix(domain.GROUP_PREFIX)}"
    with uow:
        t = _ticket(uow, ticket_id)
        sent = join(uow, ticket_id, codes, by, cfg, now, via)
        uow.commit()
    return Effect(ticket_id, t["status"], sent).count()


def join(uow: UnitOfWork, ticket_id: str, codes: tuple[str, ...], by: str, cfg: LiaisonConfig,
         now: datetime, via: str = "") -> tuple[str, ...]:
    """Inside the caller's transaction: put the agencies not yet on the ticket on it, each with
    its backfill; returns the agency of each share sent."""
    have = db.agencies_of(uow.session, ticket_id)
    added = [c for c in codes if c not in have]
    for code in added:
        uow.session.execute(insert(db.participants).values(
            ticket_id=ticket_id, party=code, kind="agency", role="partner_observer",
            added_at=now))
        _timeline(uow, ticket_id, now, "agency.added",
                  f"{_name(cfg, code)}（{code}）加入协同（{by}{via}）", author=by)
    return tuple(a for code in added for a in backfill(uow, ticket_id, code, cfg, now))


def _name(cfg: LiaisonConfig, code: str) -> str:
    return a.name if (a := cfg.agency(code)) else code


def backfill(uow: UnitOfWork, ticket_id: str, agency: str, cfg: LiaisonConfig,
             now: datetime) -> tuple[str, ...]:
    """Deliver, in order, every earlier share of the ticket the agency is now entitled to."""
    have = set(uow.session.execute(select(db.shares.c.event_id).where(
        db.shares.c.ticket_id == ticket_id, db.shares.c.agency == agency)).scalars())
    agencies = db.agencies_of(uow.session, ticket_id)
    sent = []
    se = db.shared_events
    rows = uow.session.execute(select(se).where(se.c.ticket_id == ticket_id)
                               .order_by(se.c.at, se.c.event_id)).mappings().all()
    for row in rows:
        if row["event_id"] in have or agency not in domain.share_targets(
                row["tlp"], agencies, cfg.directory):
            continue
        event = parse(json.loads(row["body"]))
        if not domain.in_audience(event.type, event.payload, agency):
            continue  # e.g. the notice of a meeting the agency was not invited to
        _deliver(uow, ticket_id, event, agency, cfg, now, backfill=True)
        sent.append(agency)
    return tuple(sent)


# --- staff ----------------------------------------------------------------------------------

def assign(uow: UnitOfWork, ticket_id: str, party: str, role: str, by: str,
           now: datetime | None = None) -> None:
    """Give `party` a role on the ticket (a commander is unique: the previous one steps down)."""
    now = now or utcnow()
    with uow:
        _ticket(uow, ticket_id)
        s = uow.session
        if role == "commander":
            s.execute(update(db.ticket_facts).where(db.ticket_facts.c.ticket_id == ticket_id)
                      .values(commander=party))
            s.execute(update(db.participants).where(
                db.participants.c.ticket_id == ticket_id,
                db.participants.c.role == "commander").values(role="observer"))
        existing = s.execute(select(db.participants.c.id).where(
            db.participants.c.ticket_id == ticket_id, db.participants.c.party == party)
        ).scalar_one_or_none()
        if existing is None:
            s.execute(insert(db.participants).values(
                ticket_id=ticket_id, party=party, kind="person", role=role, added_at=now))
        else:
            s.execute(update(db.participants).where(db.participants.c.id == existing)
                      .values(role=role))
        _timeline(uow, ticket_id, now, "participant.assigned", f"{party} 担任 {role}（{by}）",
                  author=by)
        uow.commit()


def acknowledge(uow: UnitOfWork, ticket_id: str, by: str, cfg: LiaisonConfig,
                now: datetime | None = None) -> Effect:
    """Staff take the ticket on: the acknowledge deadline is met (open → acknowledged)."""
    now = now or utcnow()
    with uow:
        t = _ticket(uow, ticket_id)
        facts = db.facts_of(uow.session, ticket_id)
        if facts.get("acknowledged_at"):
            return Effect(ticket_id, t["status"])
        status, shared = t["status"], ()
        set_fact(uow, ticket_id, "acknowledged_at", now)
        _timeline(uow, ticket_id, now, "ticket.acknowledged", f"{by} 已签收", author=by,
                  pinned=True)
        if status == "open":
            status = _move(uow, t, "acknowledged", now)
            shared = _announce(uow, t, status, None, cfg, now, by=by)
        else:
            event = _ticket_event("liaison.ticket.acknowledged", t, status, None, by=by)
            uow.publish(event)
            shared = _share(uow, ticket_id, event, db.agencies_of(uow.session, ticket_id),
                            cfg, now)
        uow.commit()
    metrics.TIME_TO_ACKNOWLEDGE.labels(t["level"]).observe(
        (now - _aware(t["opened_at"])).total_seconds())
    return Effect(ticket_id, status, shared).count()


def add_task(uow: UnitOfWork, ticket_id: str, title: str, owner: str, due_at: datetime,
             by: str, code: str | None = None, now: datetime | None = None) -> int:
    now = now or utcnow()
    with uow:
        ticket = _ticket(uow, ticket_id)
        task_id = uow.session.execute(insert(db.tasks).values(
            ticket_id=ticket_id, code=code or f"manual-{new_id()[:8]}", title=title,
            assignee=owner, status="todo", due_at=due_at, created_at=now)
        ).inserted_primary_key[0]
        _timeline(uow, ticket_id, now, "task.added",
                  f"任务「{title}」交 {owner}，"
                  f"{due_at.isoformat(timespec='minutes')} 前完成（{by}）",
                  author=by)
        notices.task_assigned(uow, ticket, int(task_id), title, owner, due_at, by)
        uow.commit()
    return int(task_id)


TASK_STATUSES = ("todo", "doing", "done", "cancelled")


def update_task(uow: UnitOfWork, ticket_id: str, task_id: int, by: str,
                status: str | None = None, owner: str | None = None,
                now: datetime | None = None) -> None:
    now = now or utcnow()
    with uow:
        ticket = _ticket(uow, ticket_id)
        row = uow.session.execute(select(db.tasks).where(
            db.tasks.c.id == task_id, db.tasks.c.ticket_id == ticket_id)).mappings().first()
        if row is None:
            raise TicketNotFound(f"{ticket_id}/tasks/{task_id}")
        values = {k: v for k, v in (("status", status), ("assignee", owner)) if v}
        uow.session.execute(update(db.tasks).where(db.tasks.c.id == task_id).values(**values))
        _timeline(uow, ticket_id, now, "task.updated",
                  f"任务「{row['title']}」" + "，".join(f"{k} → {v}" for k, v in values.items())
                  + f"（{by}）", author=by)
        if owner and owner != row["assignee"]:
            notices.task_assigned(uow, ticket, task_id, row["title"], owner,
                                  _aware(row["due_at"]), by, previous=row["assignee"])
        uow.commit()


def comment(uow: UnitOfWork, ticket_id: str, text: str, by: str, pinned: bool = False,
            now: datetime | None = None) -> None:
    now = now or utcnow()
    with uow:
        _ticket(uow, ticket_id)
        _timeline(uow, ticket_id, now, "comment", text, pinned=pinned, author=by)
        uow.commit()


def pin(uow: UnitOfWork, ticket_id: str, entry_id: int, pinned: bool) -> None:
    with uow:
        result = uow.session.execute(update(db.timeline).where(
            db.timeline.c.id == entry_id, db.timeline.c.ticket_id == ticket_id)
            .values(pinned=pinned))
        if result.rowcount != 1:
            raise TicketNotFound(f"{ticket_id}/timeline/{entry_id}")
        uow.commit()


def set_lessons(uow: UnitOfWork, ticket_id: str, lessons: str, by: str,
                now: datetime | None = None) -> None:
    now = now or utcnow()
    with uow:
        _ticket(uow, ticket_id)
        uow.session.execute(update(db.ticket_facts).where(
            db.ticket_facts.c.ticket_id == ticket_id).values(lessons=lessons))
        _timeline(uow, ticket_id, now, "review.lessons", f"复盘经验已更新（{by}）", author=by)
        uow.commit()


# --- partners -------------------------------------------------------------------------------

def partner_agency(uow: UnitOfWork, token: str) -> str | None:
    with uow:
        return partner_accounts.agency_for_token(uow.session, token)


def _shared_with(uow: UnitOfWork, ticket_id: str, agency: str) -> bool:
    """On the ticket (the AMBER audience). An agency that only saw GREEN/CLEAR notices of it
    (e.g. the published statement) has nothing to acknowledge and may not comment."""
    return agency in db.agencies_of(uow.session, ticket_id)


def require_on_ticket(uow: UnitOfWork, ticket_id: str, agency: str) -> None:
    """TicketNotFound or NotShared unless `agency` is on the ticket."""
    with uow:
        _ticket(uow, ticket_id)
        if not _shared_with(uow, ticket_id, agency):
            raise NotShared(f"ticket {ticket_id} is not shared with {agency}")


def partner_note(uow: UnitOfWork, ticket_id: str, agency: str, kind: str, text: str,
                 cfg: LiaisonConfig, now: datetime | None = None) -> dict[str, Any]:
    """A partner's acknowledgement or comment lands on the timeline (its agency as author)."""
    now = now or utcnow()
    with uow:
        ticket = _ticket(uow, ticket_id)
        if not _shared_with(uow, ticket_id, agency):
            raise NotShared(f"ticket {ticket_id} is not shared with {agency}")
        name = a.name if (a := cfg.agency(agency)) else agency
        if kind == "partner.ack":
            text = f"{name} 已确认收到" + (f"：{text}" if text else "")
        else:
            notices.partner_commented(uow, ticket, agency, name, text, now)
            text = f"{name}：{text}"
        try:
            _timeline(uow, ticket_id, now, kind, text, author=f"partner:{agency}",
                      pinned=kind == "partner.ack")
        except IntegrityError as exc:  # pragma: no cover - defensive
            raise TicketNotFound(ticket_id) from exc
        uow.commit()
    return {"ticket_id": ticket_id, "agency": agency, "kind": kind, "at": now.isoformat()}
