"""The statement's way through news and review, on the ticket's timeline; its publication
moves the ticket (responding → monitoring) and is shared (GREEN) with every agency.

The ticket is found by the `ticket_id` the news and review events carry (`tickets.of_event`);
events from before that key was added find it by their correlation id.
"""

from __future__ import annotations

from datetime import datetime

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, utcnow
from services.liaison import domain, messages, tickets
from services.liaison.config import LiaisonConfig
from services.liaison.tickets import Effect

# the events whose only effect is a timeline entry of the statement's way
STEP_TYPES = tuple(messages.STATEMENT_STEPS)


def record_step(uow: UnitOfWork, event: Envelope) -> Effect | None:
    """Put a news/review step of the ticket's statement on its timeline (no ticket: ignore)."""
    kind, text = messages.statement_step(event.type, event.payload)
    with uow:
        if not uow.first_time(event, f"liaison.timeline.{event.type}"):
            return None
        ticket = tickets.of_event(uow, event)
        if ticket is None:
            return None
        tickets.note(uow, ticket.id, event.occurred_at, kind, text, event.id)
        uow.commit()
    return Effect(ticket.id, ticket.status)


def statement_published(uow: UnitOfWork, event: Envelope, cfg: LiaisonConfig,
                        now: datetime | None = None) -> Effect | None:
    """The statement is out: timeline, and responding → monitoring."""
    now = now or utcnow()
    p = event.payload
    with uow:
        if not uow.first_time(event, "liaison.statement_published"):
            return None
        ticket = tickets.of_event(uow, event)
        if ticket is None:
            return None
        before = ticket.status
        target = domain.after_statement(ticket.status)
        if target:
            ticket = tickets.move(uow, ticket, target, now)
        tickets.note(uow, ticket.id, event.occurred_at, "statement.published",
                     messages.statement_published(p["title"], p["channels"],
                                                  (before, ticket.status) if target else None),
                     event.id, pinned=True)
        tickets.record_fact(uow, ticket.id, domain.DEADLINE_FACTS["first_response"],
                            event.occurred_at)
        public = new_event("liaison.statement.published", {
            "ticket_id": ticket.id, "incident_id": ticket.incident_id,
            "title": p["title"], "channels": list(p.get("channels", [])),
            "url": p.get("url")}, correlation_id=ticket.incident_id, caused_by=event,
            tlp="GREEN")
        shared = tickets.publish_and_share(uow, ticket.id, public, cfg, now)
        uow.commit()
    return Effect(ticket.id, ticket.status, shared).count()
