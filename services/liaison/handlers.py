"""Liaison use cases: open a ticket per incident, share it, keep its timeline, move its status.

Every consuming use case claims the event in the inbox first; a state change, its timeline
entries, its shares and the events it causes commit in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from civicpulse import contracts
from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, new_id, utcnow
from civicpulse.errors import ContractViolation, TransientError
from civicpulse.outbox import PARTNER_EXCHANGE
from services.liaison import db, domain, metrics, notices, partner_webhooks
from services.liaison.config import LiaisonConfig

STAGE_NAMES = {"section_head": "处室负责人", "leader_in_charge": "分管领导",
               "principal": "主要领导"}


class TicketNotFound(LookupError):
    pass


class TicketNotOpenYet(TransientError):
    """An incident event overtook the detection that opens its ticket: retry it later.

    Every detected incident gets a ticket, so an escalation or subsidence without one arrived
    out of order (each event type has its own queue); the platform retries it with backoff.
    """


@dataclass(frozen=True)
class Effect:
    """What a use case did, for its caller and the metrics (counted after commit)."""

    ticket_id: str
    status: str
    shared: tuple[str, ...] = ()
    opened_level: str | None = None

    def count(self) -> Effect:
        if self.opened_level:
            metrics.TICKETS_OPENED.labels(self.opened_level).inc()
        for agency in self.shared:
            metrics.SHARES.labels(agency).inc()
        return self


# --- small writers --------------------------------------------------------------------------

def _timeline(uow: UnitOfWork, ticket_id: str, at: datetime, kind: str, text: str,
              event_id: str | None = None, pinned: bool = False,
              author: str | None = None) -> None:
    uow.session.execute(insert(db.timeline).values(
        ticket_id=ticket_id, at=at, kind=kind, text=text, event_id=event_id, pinned=pinned,
        author=author))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _add_participants(uow: UnitOfWork, ticket_id: str,
                      drafts: Sequence[domain.ParticipantDraft], now: datetime) -> None:
    for p in drafts:
        uow.session.execute(insert(db.participants).values(
            ticket_id=ticket_id, party=p.party, kind=p.kind, role=p.role, added_at=now))


def _share(uow: UnitOfWork, ticket_id: str, event: Envelope, ticket_agencies: Sequence[str],
           cfg: LiaisonConfig, now: datetime) -> tuple[str, ...]:
    """Share `event` with the partner agencies its TLP allows; record each share."""
    targets = domain.share_targets(event.tlp, ticket_agencies, cfg.directory)
    if targets and not contracts.shareable(event.type, event.version, event.tlp):
        raise ContractViolation(f"{event.type} v{event.version} at TLP:{event.tlp} is not in "
                                "the partner catalogue (declare partner_tlp on its contract)")
    uow.session.execute(insert(db.shared_events).values(
        event_id=event.id, ticket_id=ticket_id, event_type=event.type, tlp=event.tlp,
        body=event.to_json(), at=now))
    if not targets:
        _timeline(uow, ticket_id, now, "withheld",
                  f"{event.type} TLP:{event.tlp}，仅限本办，不对外共享", event.id)
    for code in targets:
        _deliver(uow, ticket_id, event, code, cfg, now)
    return targets


def _deliver(uow: UnitOfWork, ticket_id: str, event: Envelope, code: str, cfg: LiaisonConfig,
             now: datetime, backfill: bool = False) -> None:
    """One share: the partner queue gets the event (outbox), the share log and timeline say so."""
    uow.publish(event, exchange=PARTNER_EXCHANGE, routing_key=code)
    uow.session.execute(insert(db.shares).values(
        ticket_id=ticket_id, agency=code, event_id=event.id, event_type=event.type,
        tlp=event.tlp, shared_at=now))
    partner_webhooks.enqueue(uow.session, code, event, now)  # same decision, same commit
    agency = cfg.agency(code)
    _timeline(uow, ticket_id, now, "shared",
              f"{event.type} 已{'补发' if backfill else '共享'}给 "
              f"{agency.name if agency else code}（{code}），TLP:{event.tlp}", event.id)


def _move(uow: UnitOfWork, ticket: dict[str, Any], target: str, now: datetime) -> str:
    """Compare-and-set the status; InvalidTransition if not allowed or changed meanwhile."""
    new = domain.transition(ticket["status"], target)
    result = uow.session.execute(
        update(db.tickets).where(db.tickets.c.id == ticket["id"],
                                 db.tickets.c.status == ticket["status"])
        .values(status=new, updated_at=now))
    if result.rowcount != 1:
        raise domain.InvalidTransition(ticket["status"], target)
    return new


def _ticket_event(type_: str, ticket: dict[str, Any], status: str, caused_by: Envelope | None,
                  tlp: str = "AMBER", **extra: Any) -> Envelope:
    return new_event(type_, {"ticket_id": ticket["id"], "incident_id": ticket["incident_id"],
                             "status": status, **extra},
                     correlation_id=ticket["incident_id"], caused_by=caused_by, tlp=tlp)


# --- opening --------------------------------------------------------------------------------

def open_ticket(uow: UnitOfWork, event: Envelope, cfg: LiaisonConfig,
                now: datetime | None = None) -> Effect | None:
    """Exactly one ticket per incident: inbox for redelivery, unique incident_id for the rest."""
    now = now or utcnow()
    p = event.payload
    applied = domain.apply_plan(cfg.plan.for_level(p["level"]), now)
    status = domain.transition("open", "responding") if applied.statement_required else "open"
    ticket = {"id": f"tkt-{new_id()[:12]}", "incident_id": p["incident_id"],
              "topic": p["topic"], "level": p["level"], "status": status,
              "title": domain.ticket_title(p["topic"], p["level"]),
              "lead_section": applied.lead_section, "opened_at": now, "updated_at": now,
              **{f"{k}_due_at": v for k, v in applied.due.items()}}
    with uow:
        if not uow.first_time(event, "liaison.open_ticket"):
            return None
        if not _insert_ticket(uow, ticket):
            uow.commit()  # the inbox mark: this event is handled (another one opened it)
            return None
        shared = _open(uow, ticket, applied, event, cfg, now)
        uow.commit()
    return Effect(ticket["id"], status, shared, opened_level=ticket["level"]).count()


def _insert_ticket(uow: UnitOfWork, ticket: dict[str, Any]) -> bool:
    if db.ticket_by_incident(uow.session, ticket["incident_id"]) is not None:
        return False
    try:
        with uow.session.begin_nested():
            uow.session.execute(insert(db.tickets).values(**ticket))
    except IntegrityError:  # a concurrent event for the same incident won
        return False
    return True


def _open(uow: UnitOfWork, ticket: dict[str, Any], applied: domain.PlanApplication,
          cause: Envelope, cfg: LiaisonConfig, now: datetime) -> tuple[str, ...]:
    tid = ticket["id"]
    uow.session.execute(insert(db.ticket_facts).values(ticket_id=tid))
    chain = cfg.plan.for_level(ticket["level"]).escalation
    for kind, due_at in applied.due.items():
        uow.session.execute(insert(db.deadlines).values(
            ticket_id=tid, kind=kind, step=1, due_at=domain.first_step_due(due_at, chain)))
    notices.schedule_warnings(uow, tid, applied.due, cfg.plan.for_level(ticket["level"])
                              .warn_before, now)
    snapshot(uow, tid, cause)
    _add_participants(uow, tid, applied.participants, now)
    for t in applied.tasks:
        uow.session.execute(insert(db.tasks).values(
            ticket_id=tid, code=t.code, title=t.title, assignee=t.assignee, status="todo",
            due_at=t.due_at, created_at=now))
    opened = _ticket_event(
        "liaison.ticket.opened", ticket, ticket["status"], cause, level=ticket["level"],
        topic=ticket["topic"], title=ticket["title"], lead_section=ticket["lead_section"],
        agencies=list(applied.agencies), deadlines={k: v.isoformat() for k, v in
                                                   applied.due.items()})
    uow.publish(opened)
    partners = "、".join(_names(cfg, applied.agencies)) or "无"
    _timeline(uow, tid, now, "ticket.opened",
              f"事件 {ticket['incident_id']}（{ticket['level']}级）开单，"
              f"牵头：{ticket['lead_section']}，协同：{partners}", opened.id, pinned=True)
    shared = _share(uow, tid, opened, applied.agencies, cfg, now)
    if applied.statement_required:
        _request_statement(uow, ticket, applied.due["first_response"], cause, now)
    return shared


def _request_statement(uow: UnitOfWork, ticket: dict[str, Any], due_at: datetime,
                       cause: Envelope, now: datetime) -> None:
    brief = domain.statement_brief(ticket["topic"], ticket["level"], due_at)
    requested = new_event("liaison.statement.requested", {
        "ticket_id": ticket["id"], "incident_id": ticket["incident_id"],
        "topic": ticket["topic"], "level": ticket["level"], "title": ticket["title"],
        "brief": brief, "due_at": due_at.isoformat()},
        correlation_id=ticket["incident_id"], caused_by=cause, tlp="AMBER")
    uow.publish(requested)
    _timeline(uow, ticket["id"], now, "statement.requested",
              f"请新闻宣传条线起草回应口径，{due_at.isoformat(timespec='minutes')} 前提交；"
              "状态 open → responding", requested.id)


def snapshot(uow: UnitOfWork, ticket_id: str, event: Envelope) -> None:
    """Keep the opinion figures a sentiment event carries (for the review's curve)."""
    p = event.payload
    ratio = p.get("negative_ratio")
    volume = p.get("volume")
    uow.session.execute(insert(db.snapshots).values(
        ticket_id=ticket_id, at=event.occurred_at, source=event.type, level=p.get("level"),
        negative_ratio=float(ratio) if ratio is not None else None,
        volume=int(volume) if volume is not None else None, event_id=event.id))


def set_fact(uow: UnitOfWork, ticket_id: str, fact: str, at: datetime) -> None:
    """Record the first time a plan deadline's fact happened (acknowledged_at, ...)."""
    col = db.ticket_facts.c[fact]
    uow.session.execute(update(db.ticket_facts).where(
        db.ticket_facts.c.ticket_id == ticket_id, col.is_(None)).values({fact: at}))


def _names(cfg: LiaisonConfig, codes: Sequence[str]) -> list[str]:
    return [a.name if (a := cfg.agency(c)) else c for c in codes]


# --- timeline of the statement's way through news and review ---------------------------------

def _stage(p: dict[str, Any]) -> str:
    return f"{p['stage']}（{STAGE_NAMES.get(p['stage'], p['stage'])}）"


STEPS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "news.item.submitted": ("statement.submitted",
                            lambda p: f"口径稿《{p['title']}》已提交审核（{p['item_id']} "
                                      f"第{p['revision']}版）"),
    "review.case.opened": ("review.opened",
                           lambda p: f"审核案件 {p['case_id']} 已开启，当前环节 {_stage(p)}"),
    "review.stage.approved": ("review.stage_approved",
                              lambda p: f"{_stage(p)} 审核通过，审核人 {p['reviewer']}"),
    "review.case.approved": ("review.approved",
                             lambda p: f"审核案件 {p['case_id']} 全部通过，文号 "
                                       f"{p['reference_no']}"),
    "review.case.returned": ("review.returned",
                             lambda p: f"{_stage(p)} 退回修改：{p['comment']}"),
    "review.case.rejected": ("review.rejected",
                             lambda p: f"{_stage(p)} 不予通过：{p['comment']}"),
    "review.stage.overdue": ("review.overdue",
                             lambda p: f"{_stage(p)} 审核超时（时限 {p['due_at']}），已提醒："
                                       f"{'、'.join(p.get('escalated_to') or []) or '—'}"),
}


def _ticket_for(uow: UnitOfWork, event: Envelope) -> dict[str, Any] | None:
    return db.ticket_by_incident(uow.session, event.correlation_id)


def record_step(uow: UnitOfWork, event: Envelope) -> Effect | None:
    """Put a news/review step of the ticket's statement on its timeline (no ticket: ignore)."""
    kind, text = STEPS[event.type]
    with uow:
        if not uow.first_time(event, f"liaison.timeline.{event.type}"):
            return None
        ticket = _ticket_for(uow, event)
        if ticket is None:
            return None
        _timeline(uow, ticket["id"], _at(event), kind, text(event.payload), event.id)
        uow.commit()
    return Effect(ticket["id"], ticket["status"])


def statement_published(uow: UnitOfWork, event: Envelope, cfg: LiaisonConfig,
                        now: datetime | None = None) -> Effect | None:
    """The statement is out: timeline, and responding → monitoring."""
    now = now or utcnow()
    p = event.payload
    with uow:
        if not uow.first_time(event, "liaison.statement_published"):
            return None
        ticket = _ticket_for(uow, event)
        if ticket is None:
            return None
        status = ticket["status"]
        text = f"口径《{p['title']}》已发布（{'、'.join(p['channels'])}）"
        if status == "responding":
            status = _move(uow, ticket, "monitoring", now)
            text += "；状态 responding → monitoring"
        _timeline(uow, ticket["id"], _at(event), "statement.published", text, event.id,
                  pinned=True)
        set_fact(uow, ticket["id"], "first_response_at", _at(event))
        public = new_event("liaison.statement.published", {
            "ticket_id": ticket["id"], "incident_id": ticket["incident_id"],
            "title": p["title"], "channels": list(p.get("channels", [])),
            "url": p.get("url")}, correlation_id=ticket["incident_id"], caused_by=event,
            tlp="GREEN")
        uow.publish(public)
        shared = _share(uow, ticket["id"], public, db.agencies_of(uow.session, ticket["id"]),
                        cfg, now)
        uow.commit()
    return Effect(ticket["id"], status, shared).count()


# --- the incident moves ---------------------------------------------------------------------

def incident_escalated(uow: UnitOfWork, event: Envelope, cfg: LiaisonConfig,
                       now: datetime | None = None) -> Effect | None:
    """Raise the ticket's level; bring in the stronger plan's agencies and share with them."""
    now = now or utcnow()
    level = event.payload["level"]
    with uow:
        if not uow.first_time(event, "liaison.incident_escalated"):
            return None
        ticket = _ticket_for(uow, event)
        if ticket is None:
            raise TicketNotOpenYet(f"no ticket yet for incident {event.correlation_id}")
        snapshot(uow, ticket["id"], event)
        if not domain.is_stronger(level, ticket["level"]):
            _timeline(uow, ticket["id"], _at(event), "incident.escalated",
                      f"舆情级别 {level} 不高于工单级别 {ticket['level']}，未调整", event.id)
            uow.commit()
            return Effect(ticket["id"], ticket["status"])
        shared = _escalate(uow, ticket, level, event, cfg, now)
        uow.commit()
    return Effect(ticket["id"], ticket["status"], shared).count()


def _escalate(uow: UnitOfWork, ticket: dict[str, Any], level: str, cause: Envelope,
              cfg: LiaisonConfig, now: datetime) -> tuple[str, ...]:
    tid = ticket["id"]
    current = db.agencies_of(uow.session, tid)
    plan = cfg.plan.for_level(level)
    added = domain.added_agencies(current, plan)
    due = {k: domain.stronger_due(_aware(ticket[f"{k}_due_at"]), plan.deadlines.minutes(k), now)
           for k in domain.DEADLINE_KEYS}
    status = ticket["status"]
    reopen = domain.reopened(status)
    uow.session.execute(update(db.tickets).where(db.tickets.c.id == tid).values(
        level=level, lead_section=plan.lead_section, updated_at=now,
        status=reopen or status, **{f"{k}_due_at": v for k, v in due.items()}))
    for kind, due_at in due.items():  # pending first steps move up to the stronger deadlines
        uow.session.execute(update(db.deadlines).where(
            db.deadlines.c.ticket_id == tid, db.deadlines.c.kind == kind,
            db.deadlines.c.step == 1, db.deadlines.c.fired_at.is_(None),
            db.deadlines.c.due_at > due_at).values(due_at=due_at))
    notices.schedule_warnings(uow, tid, due, plan.warn_before, now)
    have = [t["code"] for t in db.rows_of(uow.session, db.tasks, tid)]
    for t in domain.missing_tasks(have, plan, due, plan.lead_section):
        uow.session.execute(insert(db.tasks).values(
            ticket_id=tid, code=t.code, title=t.title, assignee=t.assignee, status="todo",
            due_at=t.due_at, created_at=now))
    _add_participants(uow, tid, domain.agency_participants(added), now)
    text = (f"舆情升级：{ticket['level']} → {level}，按{level}级预案：牵头 {plan.lead_section}；"
            f"新增协同单位：{'、'.join(_names(cfg, added)) or '无'}")
    if reopen:
        text += f"；工单重新打开（{status} → {reopen}）"
        ticket = {**ticket, "status": reopen}
    _timeline(uow, tid, _at(cause), "incident.escalated", text, cause.id, pinned=True)
    escalated = _ticket_event(
        "liaison.ticket.escalated", ticket, ticket["status"], cause, level=level,
        previous_level=ticket["level"], topic=ticket["topic"], title=ticket["title"],
        lead_section=plan.lead_section, agencies=[*current, *added],
        added_agencies=list(added), reopened=bool(reopen),
        deadlines={k: v.isoformat() for k, v in due.items()})
    uow.publish(escalated)
    return _share(uow, ticket["id"], escalated, [*current, *added], cfg, now)


def incident_subsided(uow: UnitOfWork, event: Envelope, cfg: LiaisonConfig,
                      now: datetime | None = None) -> Effect | None:
    """The incident calmed down: a monitored ticket is resolved (liaison.ticket.resolved)."""
    now = now or utcnow()
    with uow:
        if not uow.first_time(event, "liaison.incident_subsided"):
            return None
        ticket = _ticket_for(uow, event)
        if ticket is None:
            raise TicketNotOpenYet(f"no ticket yet for incident {event.correlation_id}")
        snapshot(uow, ticket["id"], event)
        status, shared = ticket["status"], ()
        text = f"舆情回落（负面占比 {event.payload['negative_ratio']:.0%}）"
        resolve = status == "monitoring"
        if resolve:
            status = _move(uow, ticket, "resolved", now)
            text += "；状态 monitoring → resolved"
        _timeline(uow, ticket["id"], _at(event), "incident.subsided", text, event.id)
        if resolve:
            set_fact(uow, ticket["id"], "resolved_at", now)
            shared = _announce(uow, ticket, status, event, cfg, now)
        uow.commit()
    if resolve:
        _observe_resolved(ticket, now)
    return Effect(ticket["id"], status, shared).count()


# --- staff move a ticket --------------------------------------------------------------------

STATUS_EVENTS = {"acknowledged": "liaison.ticket.acknowledged",
                 "resolved": "liaison.ticket.resolved", "closed": "liaison.ticket.closed"}


def _announce(uow: UnitOfWork, ticket: dict[str, Any], status: str, cause: Envelope | None,
              cfg: LiaisonConfig, now: datetime, **extra: Any) -> tuple[str, ...]:
    """Publish the status's event, if it has one, and share it with the ticket's agencies."""
    type_ = STATUS_EVENTS.get(status)
    if type_ is None:
        return ()
    event = _ticket_event(type_, ticket, status, cause, **extra)
    uow.publish(event)
    return _share(uow, ticket["id"], event, db.agencies_of(uow.session, ticket["id"]), cfg, now)


def change_status(uow: UnitOfWork, ticket_id: str, target: str, by: str, cfg: LiaisonConfig,
                  note: str | None = None, now: datetime | None = None) -> Effect:
    """A person moves the ticket; InvalidTransition or TicketNotFound otherwise."""
    now = now or utcnow()
    with uow:
        ticket = db.ticket_by_id(uow.session, ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        status = _move(uow, ticket, target, now)
        text = f"状态 {ticket['status']} → {status}（{by}）" + (f"：{note}" if note else "")
        _timeline(uow, ticket_id, now, "status.changed", text, author=by)
        fact = {"acknowledged": "acknowledged_at", "resolved": "resolved_at",
                "closed": "closed_at"}.get(status)
        if fact:
            set_fact(uow, ticket_id, fact, now)
        extra = {"by": by} if status == "acknowledged" else {}
        shared = _announce(uow, ticket, status, None, cfg, now, **extra)
        uow.commit()
    if status == "resolved":
        _observe_resolved(ticket, now)
    return Effect(ticket_id, status, shared).count()


def _observe_resolved(ticket: dict[str, Any], now: datetime) -> None:
    metrics.TIME_TO_RESOLVE.labels(ticket["level"]).observe(
        (now - _aware(ticket["opened_at"])).total_seconds())


# --- reading --------------------------------------------------------------------------------

def _at(event: Envelope) -> datetime:
    return event.occurred_at


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row.items()}


def _summary(t: dict[str, Any]) -> dict[str, Any]:
    out = _jsonable({k: v for k, v in t.items() if not k.endswith("_due_at")})
    out["deadlines"] = {k: _iso(t[f"{k}_due_at"]) for k in domain.DEADLINE_KEYS}
    return out


def list_tickets(uow: UnitOfWork, *, incident_id: str | None = None,
                 status: str | None = None, level: str | None = None,
                 agency: str | None = None) -> list[dict[str, Any]]:
    with uow:
        rows = db.list_tickets(uow.session, incident_id=incident_id, status=status)
        if level:
            rows = [t for t in rows if t["level"] == level]
        if agency:
            rows = [t for t in rows if agency in db.agencies_of(uow.session, t["id"])]
        return [_summary(t) for t in rows]


def list_tasks(uow: UnitOfWork, assignee: str, section: str | None = None,
               status: str | None = None) -> list[dict[str, Any]]:
    """The tasks a person has on any ticket (their own, and their section's as lead section)."""
    with uow:
        return [_jsonable(t) for t in db.open_tasks(uow.session, [assignee], section, status)]


def counts_by_level_status(uow: UnitOfWork) -> dict[tuple[str, str], int]:
    with uow:
        return {(t["level"], t["status"]): n for t, n in db.count_by_level_status(uow.session)}


def overdue_deadlines(uow: UnitOfWork, now: datetime | None = None
                      ) -> dict[tuple[str, str], int]:
    """(deadline, level) → tickets in work whose plan deadline passed unmet (for the gauge)."""
    with uow:
        return db.count_overdue_deadlines(uow.session, now or utcnow())


def get_ticket(uow: UnitOfWork, ticket_id: str) -> dict[str, Any] | None:
    """The whole ticket, JSON-safe: participants, tasks, timeline (by time), shares."""
    with uow:
        t = db.ticket_by_id(uow.session, ticket_id)
        if t is None:
            return None
        s = uow.session
        return {
            **_summary(t),
            # the statuses the plan lets it move to now (the console offers these)
            "next_statuses": [st for st in domain.STATUSES
                              if domain.can_transition(t["status"], st)],
            "agencies": db.agencies_of(s, ticket_id),
            "participants": [_jsonable(r) for r in db.rows_of(s, db.participants, ticket_id)],
            "tasks": [_jsonable(r) for r in db.rows_of(s, db.tasks, ticket_id,
                                                       db.tasks.c.due_at)],
            "timeline": [_jsonable(r) for r in db.rows_of(s, db.timeline, ticket_id,
                                                          db.timeline.c.at)],
            "shares": [_jsonable(r) for r in db.rows_of(s, db.shares, ticket_id,
                                                        db.shares.c.shared_at)],
            "facts": _jsonable({k: v for k, v in db.facts_of(s, ticket_id).items()
                                if k != "ticket_id"}),
            "timers": [_jsonable(r) for r in db.rows_of(s, db.deadlines, ticket_id,
                                                        db.deadlines.c.due_at)],
            "meetings": [_meeting(r) for r in db.rows_of(s, db.meetings, ticket_id,
                                                         db.meetings.c.starts_at)],
        }


def _meeting(row: dict[str, Any]) -> dict[str, Any]:
    out = _jsonable(row)
    out["agencies"] = json.loads(row["agencies"])
    return out
