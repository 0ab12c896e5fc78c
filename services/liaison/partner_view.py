"""What a partner agency may read over HTTP (`GET /partner/tickets`, `/partner/tickets/<id>`):
the tickets its agency is on, each with the events that were shared with that agency (the very
envelopes its queue received, never RED) and its own acknowledgements and comments. Nothing
else: no staff comments, tasks, participants, meetings' minutes, withheld notes, other
agencies' notes or staff-only fields (lead section, internal deadlines)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.serialize import iso
from services.liaison import domain, tickets

# the ticket fields a partner sees (all of them are in the AMBER `liaison.ticket.opened` it got)
TICKET_FIELDS = ("id", "incident_id", "title", "topic", "level", "status", "opened_at",
                 "updated_at")
NOTE_KINDS = ("partner.ack", "partner.comment")


class NotOnTicket(PermissionError):
    pass


def _public(ticket: domain.Ticket) -> dict[str, Any]:
    fields = asdict(ticket)
    return {k: iso(fields[k]) for k in TICKET_FIELDS}


def tickets_of(uow: UnitOfWork, agency: str) -> list[dict[str, Any]]:
    """The tickets `agency` is on, newest first."""
    with uow:
        found = tickets.repos(uow).tickets.list(domain.TicketQuery(agency=agency))
        return [_public(t) for t in found]


def ticket(uow: UnitOfWork, agency: str, ticket_id: str) -> dict[str, Any] | None:
    """One ticket as `agency` may see it; None if there is no such ticket, NotOnTicket if the
    agency is not on it."""
    with uow:
        r = tickets.repos(uow)
        t = r.tickets.get(ticket_id)
        if t is None:
            return None
        if not tickets.on_ticket(uow, ticket_id, agency):
            raise NotOnTicket(f"ticket {ticket_id} is not shared with {agency}")
        events = [{**json.loads(body), "shared_at": iso(at)}
                  for body, at in r.shares.received_by(ticket_id, agency)]
        notes = [{"at": iso(e.at), "kind": e.kind, "text": e.text}
                 for e in r.timeline.by_author(ticket_id, f"partner:{agency}", NOTE_KINDS)]
        return {**_public(t), "agency": agency, "events": events, "notes": notes}
