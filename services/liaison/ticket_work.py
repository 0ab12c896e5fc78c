"""What people do on a ticket: staff (move it, acknowledge, assign, tasks, comments, pins,
agencies, lessons) and partner agencies (acknowledge, comment). Each call is one unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_id, utcnow
from civicpulse.serialize import aware
from services.liaison import domain, messages, notices, partner_accounts, tickets
from services.liaison.config import LiaisonConfig
from services.liaison.tickets import Effect, TicketNotFound, UnknownAgency, resolve_agencies

__all__ = ["Effect", "NotShared", "TicketNotFound", "UnknownAgency", "acknowledge",
           "add_agency", "add_task", "assign", "change_status", "comment",
           "partner_agency", "partner_note", "pin", "require_on_ticket", "resolve_agencies",
           "set_lessons", "update_task"]



class NotShared(PermissionError):
    """The partner's agency is not on the ticket and nothing of it was shared with it."""


# --- the ticket's status --------------------------------------------------------------------

def change_status(uow: UnitOfWork, ticket_id: str, target: str, by: str, cfg: LiaisonConfig,
                  note: str | None = None, now: datetime | None = None) -> Effect:
    """A person moves the ticket; InvalidTransition or TicketNotFound otherwise."""
    now = now or utcnow()
    with uow:
        before = tickets.get(uow, ticket_id)
        ticket = tickets.move(uow, before, target, now)
        tickets.note(uow, ticket_id, now, "status.changed",
                     messages.status_changed(before.status, ticket.status, by, note), author=by)
        fact = domain.STATUS_FACTS.get(ticket.status)
        if fact:
            tickets.record_fact(uow, ticket_id, fact, now)
        extra = {"by": by} if domain.names_who(ticket.status) else {}
        shared = tickets.announce(uow, ticket, ticket.status, None, cfg, now, **extra)
        uow.commit()
    if domain.is_resolution(ticket.status):
        tickets.observe_resolved(ticket, now)
    return Effect(ticket_id, ticket.status, shared).count()


def acknowledge(uow: UnitOfWork, ticket_id: str, by: str, cfg: LiaisonConfig,
                now: datetime | None = None) -> Effect:
    """Staff take the ticket on: the acknowledge deadline is met (open → acknowledged)."""
    now = now or utcnow()
    with uow:
        ticket = tickets.get(uow, ticket_id)
        if tickets.repos(uow).tickets.facts(ticket_id).acknowledged_at:
            return Effect(ticket_id, ticket.status)
        opened = ticket
        tickets.record_fact(uow, ticket_id, domain.DEADLINE_FACTS["acknowledge"], now)
        tickets.note(uow, ticket_id, now, "ticket.acknowledged", messages.acknowledged(by),
                     author=by, pinned=True)
        target = domain.after_acknowledging(ticket.status)
        if target:
            ticket = tickets.move(uow, ticket, target, now)
            shared = tickets.announce(uow, ticket, ticket.status, None, cfg, now, by=by)
        else:  # acknowledged later in its life: partners still hear of it
            shared = tickets.publish_and_share(
                uow, ticket_id, tickets.event("liaison.ticket.acknowledged", ticket,
                                              ticket.status, None, by=by), cfg, now)
        uow.commit()
    tickets.observe_acknowledged(opened, now)
    return Effect(ticket_id, ticket.status, shared).count()


# --- agencies -------------------------------------------------------------------------------

def add_agency(uow: UnitOfWork, ticket_id: str, agency: str, by: str, cfg: LiaisonConfig,
               now: datetime | None = None) -> Effect:
    """Put an agency, or every member of a sharing group, on a ticket and send each one what
    it missed (AMBER/GREEN/CLEAR shares), once: members already on the ticket are skipped."""
    now = now or utcnow()
    codes = resolve_agencies(cfg, [agency])
    via = "" if codes == (agency,) else messages.via_group(
        agency.removeprefix(domain.GROUP_PREFIX))
    with uow:
        ticket = tickets.get(uow, ticket_id)
        sent = tickets.join(uow, ticket_id, codes, by, cfg, now, via)
        uow.commit()
    return Effect(ticket_id, ticket.status, sent).count()


# --- staff ----------------------------------------------------------------------------------

def assign(uow: UnitOfWork, ticket_id: str, party: str, role: str, by: str,
           now: datetime | None = None) -> None:
    """Give `party` a role on the ticket (a commander is unique: the previous one steps down)."""
    now = now or utcnow()
    with uow:
        tickets.get(uow, ticket_id)
        tickets.repos(uow).tickets.set_role(ticket_id, party, role, now)
        tickets.note(uow, ticket_id, now, "participant.assigned",
                     messages.participant_assigned(party, role, by), author=by)
        uow.commit()


def add_task(uow: UnitOfWork, ticket_id: str, title: str, owner: str, due_at: datetime,
             by: str, code: str | None = None, now: datetime | None = None) -> int:
    now = now or utcnow()
    with uow:
        ticket = tickets.get(uow, ticket_id)
        task_id = tickets.repos(uow).tasks.add(ticket_id, code or f"manual-{new_id()[:8]}",
                                               title, owner, due_at, now)
        tickets.note(uow, ticket_id, now, "task.added",
                     messages.task_added(title, owner, due_at, by), author=by)
        notices.task_assigned(uow, ticket, task_id, title, owner, due_at, by)
        uow.commit()
    return task_id


def update_task(uow: UnitOfWork, ticket_id: str, task_id: int, by: str,
                status: str | None = None, owner: str | None = None,
                now: datetime | None = None) -> None:
    now = now or utcnow()
    with uow:
        ticket = tickets.get(uow, ticket_id)
        task = tickets.repos(uow).tasks.get(ticket_id, task_id)
        if task is None:
            raise TicketNotFound(f"{ticket_id}/tasks/{task_id}")
        values = {k: v for k, v in (("status", status), ("assignee", owner)) if v}
        tickets.repos(uow).tasks.change(task_id, **values)
        tickets.note(uow, ticket_id, now, "task.updated",
                     messages.task_updated(task.title, values, by), author=by)
        if owner and owner != task.assignee:
            notices.task_assigned(uow, ticket, task_id, task.title, owner,
                                  aware(task.due_at), by, previous=task.assignee)
        uow.commit()


def comment(uow: UnitOfWork, ticket_id: str, text: str, by: str, pinned: bool = False,
            now: datetime | None = None) -> None:
    now = now or utcnow()
    with uow:
        tickets.get(uow, ticket_id)
        tickets.note(uow, ticket_id, now, "comment", text, pinned=pinned, author=by)
        uow.commit()


def pin(uow: UnitOfWork, ticket_id: str, entry_id: int, pinned: bool) -> None:
    with uow:
        if not tickets.repos(uow).timeline.pin(ticket_id, entry_id, pinned):
            raise TicketNotFound(f"{ticket_id}/timeline/{entry_id}")
        uow.commit()


def set_lessons(uow: UnitOfWork, ticket_id: str, lessons: str, by: str,
                now: datetime | None = None) -> None:
    now = now or utcnow()
    with uow:
        tickets.get(uow, ticket_id)
        tickets.repos(uow).tickets.set_lessons(ticket_id, lessons)
        tickets.note(uow, ticket_id, now, "review.lessons", messages.lessons_updated(by),
                     author=by)
        uow.commit()


# --- partners -------------------------------------------------------------------------------

def partner_agency(uow: UnitOfWork, token: str) -> str | None:
    with uow:
        return partner_accounts.agency_for_token(uow.session, token)


def require_on_ticket(uow: UnitOfWork, ticket_id: str, agency: str) -> None:
    """TicketNotFound or NotShared unless `agency` is on the ticket (the AMBER audience). An
    agency that only saw GREEN/CLEAR notices of it (e.g. the published statement) has nothing
    to acknowledge and may not comment."""
    with uow:
        tickets.get(uow, ticket_id)
        if not tickets.on_ticket(uow, ticket_id, agency):
            raise NotShared(f"ticket {ticket_id} is not shared with {agency}")


def partner_note(uow: UnitOfWork, ticket_id: str, agency: str, kind: str, text: str,
                 cfg: LiaisonConfig, now: datetime | None = None) -> dict[str, Any]:
    """A partner's acknowledgement or comment lands on the timeline (its agency as author)."""
    now = now or utcnow()
    with uow:
        ticket = tickets.get(uow, ticket_id)
        if not tickets.on_ticket(uow, ticket_id, agency):
            raise NotShared(f"ticket {ticket_id} is not shared with {agency}")
        name = tickets.agency_name(cfg, agency)
        if kind == "partner.ack":
            text = messages.partner_ack(name, text)
        else:
            notices.partner_commented(uow, ticket, agency, name, text, now)
            text = messages.partner_comment(name, text)
        tickets.note(uow, ticket_id, now, kind, text, author=f"partner:{agency}",
                     pinned=kind == "partner.ack")
        uow.commit()
    return {"ticket_id": ticket_id, "agency": agency, "kind": kind, "at": now.isoformat()}
