"""The incident moves: sentiment detects it (a ticket opens under the level's emergency plan,
shared with the plan's agencies, a statement requested when the plan wants one), escalates it
(the stronger plan's agencies, deadlines and tasks join) or sees it subside (a monitored ticket
is resolved).

Every use case claims the event in the inbox first; a state change, its timeline entries, its
shares and the events it causes commit in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, new_id, utcnow
from services.liaison import domain, messages, notices, tickets
from services.liaison.config import LiaisonConfig
from services.liaison.tickets import Effect


def topic_name(event: Envelope) -> str:
    """The topic's human name the incident event carries (sentiment v2), else its code."""
    return event.payload.get("topic_name") or event.payload["topic"]


# --- opening --------------------------------------------------------------------------------

def open_ticket(uow: UnitOfWork, event: Envelope, cfg: LiaisonConfig,
                now: datetime | None = None) -> Effect | None:
    """Exactly one ticket per incident: inbox for redelivery, unique incident_id for the rest."""
    now = now or utcnow()
    p = event.payload
    applied = domain.apply_plan(cfg.plan.for_level(p["level"]), now)
    ticket = domain.Ticket(
        id=f"tkt-{new_id()[:12]}", incident_id=p["incident_id"], topic=p["topic"],
        level=p["level"], status=domain.opening_status(applied.statement_required),
        title=messages.ticket_title(topic_name(event), p["level"]),
        lead_section=applied.lead_section, opened_at=now, updated_at=now, due=applied.due)
    with uow:
        if not uow.first_time(event, "liaison.open_ticket"):
            return None
        if not tickets.repos(uow).tickets.add(ticket):
            uow.commit()  # the inbox mark: this event is handled (another one opened it)
            return None
        shared = _open(uow, ticket, applied, event, cfg, now)
        uow.commit()
    return Effect(ticket.id, ticket.status, shared, opened_level=ticket.level).count()


def _open(uow: UnitOfWork, ticket: domain.Ticket, applied: domain.PlanApplication,
          cause: Envelope, cfg: LiaisonConfig, now: datetime) -> tuple[str, ...]:
    chain = cfg.plan.for_level(ticket.level).escalation
    for kind, due_at in applied.due.items():
        tickets.repos(uow).timers.add(ticket.id, kind, 1, domain.first_step_due(due_at, chain))
    notices.schedule_warnings(uow, ticket.id, applied.due,
                              cfg.plan.for_level(ticket.level).warn_before, now)
    tickets.snapshot(uow, ticket.id, cause)
    tickets.add_participants(uow, ticket.id, applied.participants, now)
    tickets.add_tasks(uow, ticket.id, applied.tasks, now)
    opened = tickets.event(
        "liaison.ticket.opened", ticket, ticket.status, cause, level=ticket.level,
        topic=ticket.topic, title=ticket.title, lead_section=ticket.lead_section,
        agencies=list(applied.agencies), deadlines={k: v.isoformat() for k, v in
                                                   applied.due.items()})
    uow.publish(opened)
    tickets.note(uow, ticket.id, now, "ticket.opened",
                 messages.ticket_opened(ticket.incident_id, ticket.level, ticket.lead_section,
                                        tickets.agency_names(cfg, applied.agencies)),
                 opened.id, pinned=True)
    shared = tickets.share(uow, ticket.id, opened, applied.agencies, cfg, now)
    if applied.statement_required:
        _request_statement(uow, ticket, applied.due["first_response"], cause, now)
    return shared


def _request_statement(uow: UnitOfWork, ticket: domain.Ticket, due_at: datetime,
                       cause: Envelope, now: datetime) -> None:
    """Ask news for the statement: the internal `brief` for the drafting desk, and the public
    facts the draft may use (the topic's human name, when the discussion was noticed)."""
    name = topic_name(cause)
    requested = new_event("liaison.statement.requested", {
        "ticket_id": ticket.id, "incident_id": ticket.incident_id,
        "topic": ticket.topic, "level": ticket.level, "title": ticket.title,
        "brief": messages.statement_brief(name, ticket.level, due_at),
        "due_at": due_at.isoformat(), "topic_name": name,
        "noticed_at": cause.payload.get("detected_at") or cause.occurred_at.isoformat()},
        correlation_id=ticket.incident_id, caused_by=cause, tlp="AMBER")
    uow.publish(requested)
    tickets.note(uow, ticket.id, now, "statement.requested",
                 messages.statement_requested(due_at, (domain.INITIAL, ticket.status)),
                 requested.id)


# --- the incident grows ---------------------------------------------------------------------

def incident_escalated(uow: UnitOfWork, event: Envelope, cfg: LiaisonConfig,
                       now: datetime | None = None) -> Effect | None:
    """Raise the ticket's level; bring in the stronger plan's agencies and share with them."""
    now = now or utcnow()
    level = event.payload["level"]
    with uow:
        if not uow.first_time(event, "liaison.incident_escalated"):
            return None
        ticket = tickets.of_incident(uow, event)
        tickets.snapshot(uow, ticket.id, event)
        if not domain.is_stronger(level, ticket.level):
            tickets.note(uow, ticket.id, event.occurred_at, "incident.escalated",
                         messages.level_not_raised(level, ticket.level), event.id)
            uow.commit()
            return Effect(ticket.id, ticket.status)
        shared = _escalate(uow, ticket, level, event, cfg, now)
        uow.commit()
    return Effect(ticket.id, ticket.status, shared).count()


def _escalate(uow: UnitOfWork, ticket: domain.Ticket, level: str, cause: Envelope,
              cfg: LiaisonConfig, now: datetime) -> tuple[str, ...]:
    r = tickets.repos(uow)
    current = r.tickets.agencies(ticket.id)
    plan = cfg.plan.for_level(level)
    added = domain.added_agencies(current, plan)
    due = {k: domain.stronger_due(ticket.due[k], plan.deadlines.minutes(k), now)
           for k in domain.DEADLINE_KEYS}
    reopen = domain.reopened(ticket.status)
    r.tickets.raise_level(ticket.id, level, plan.lead_section, reopen or ticket.status, due, now)
    for kind, due_at in due.items():  # pending first steps move up to the stronger deadlines
        r.timers.bring_forward(ticket.id, kind, due_at)
    notices.schedule_warnings(uow, ticket.id, due, plan.warn_before, now)
    have = [t.code for t in r.tasks.list(ticket.id)]
    tickets.add_tasks(uow, ticket.id, domain.missing_tasks(have, plan, due, plan.lead_section),
                      now)
    tickets.add_participants(uow, ticket.id, domain.agency_participants(added), now)
    text = messages.escalated(ticket.level, level, plan.lead_section,
                              tickets.agency_names(cfg, added),
                              (ticket.status, reopen) if reopen else None)
    if reopen:
        ticket = ticket.with_status(reopen)
    tickets.note(uow, ticket.id, cause.occurred_at, "incident.escalated", text, cause.id,
                 pinned=True)
    escalated = tickets.event(
        "liaison.ticket.escalated", ticket, ticket.status, cause, level=level,
        previous_level=ticket.level, topic=ticket.topic, title=ticket.title,
        lead_section=plan.lead_section, agencies=[*current, *added],
        added_agencies=list(added), reopened=bool(reopen),
        deadlines={k: v.isoformat() for k, v in due.items()})
    return tickets.publish_and_share(uow, ticket.id, escalated, cfg, now,
                                     agencies=[*current, *added])


# --- the incident calms down ----------------------------------------------------------------

def incident_subsided(uow: UnitOfWork, event: Envelope, cfg: LiaisonConfig,
                      now: datetime | None = None) -> Effect | None:
    """The incident calmed down: a monitored ticket is resolved (liaison.ticket.resolved)."""
    now = now or utcnow()
    with uow:
        if not uow.first_time(event, "liaison.incident_subsided"):
            return None
        ticket = tickets.of_incident(uow, event)
        tickets.snapshot(uow, ticket.id, event)
        before, shared = ticket.status, ()
        target = domain.after_subsiding(ticket.status)
        if target:
            ticket = tickets.move(uow, ticket, target, now)
        tickets.note(uow, ticket.id, event.occurred_at, "incident.subsided",
                     messages.subsided(event.payload["negative_ratio"],
                                       (before, ticket.status) if target else None), event.id)
        if target:
            tickets.record_fact(uow, ticket.id, domain.STATUS_FACTS[ticket.status], now)
            shared = tickets.announce(uow, ticket, ticket.status, event, cfg, now)
        uow.commit()
    if target:
        tickets.observe_resolved(ticket, now)
    return Effect(ticket.id, ticket.status, shared).count()
