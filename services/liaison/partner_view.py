"""What a partner agency may read over HTTP (`GET /partner/tickets`, `/partner/tickets/<id>`):
the tickets its agency is on, each with the events that were shared with that agency (the very
envelopes its queue received, never RED) and its own acknowledgements and comments. Nothing
else: no staff comments, tasks, participants, meetings' minutes, withheld notes, other
agencies' notes or staff-only fields (lead section, internal deadlines)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from civicpulse.db import UnitOfWork
from services.liaison import db

# the ticket fields a partner sees (all of them are in the AMBER `liaison.ticket.opened` it got)
TICKET_FIELDS = ("id", "incident_id", "title", "topic", "level", "status", "opened_at",
                 "updated_at")
NOTE_KINDS = ("partner.ack", "partner.comment")


class NotOnTicket(PermissionError):
    pass


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value


def _public(ticket: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(ticket[k]) for k in TICKET_FIELDS}


def tickets(uow: UnitOfWork, agency: str) -> list[dict[str, Any]]:
    """The tickets `agency` is on, newest first."""
    p = db.participants.c
    with uow:
        ids = set(uow.session.execute(select(p.ticket_id).where(
            p.kind == "agency", p.party == agency)).scalars())
        return [_public(t) for t in db.list_tickets(uow.session) if t["id"] in ids]


def ticket(uow: UnitOfWork, agency: str, ticket_id: str) -> dict[str, Any] | None:
    """One ticket as `agency` may see it; None if there is no such ticket, NotOnTicket if the
    agency is not on it."""
    with uow:
        t = db.ticket_by_id(uow.session, ticket_id)
        if t is None:
            return None
        if agency not in db.agencies_of(uow.session, ticket_id):
            raise NotOnTicket(f"ticket {ticket_id} is not shared with {agency}")
        return {**_public(t), "agency": agency,
                "events": _events(uow, agency, ticket_id),
                "notes": _notes(uow, agency, ticket_id)}


def _events(uow: UnitOfWork, agency: str, ticket_id: str) -> list[dict[str, Any]]:
    s, e = db.shares.c, db.shared_events.c
    rows = uow.session.execute(
        select(e.body, s.shared_at)
        .join(db.shared_events, e.event_id == s.event_id)
        .where(s.ticket_id == ticket_id, s.agency == agency, s.tlp != "RED", e.tlp != "RED")
        .order_by(s.shared_at, s.id)).all()
    return [{**json.loads(body), "shared_at": _iso(at)} for body, at in rows]


def _notes(uow: UnitOfWork, agency: str, ticket_id: str) -> list[dict[str, Any]]:
    t = db.timeline.c
    rows = uow.session.execute(
        select(t.at, t.kind, t.text).where(
            t.ticket_id == ticket_id, t.author == f"partner:{agency}", t.kind.in_(NOTE_KINDS))
        .order_by(t.at, t.id)).mappings()
    return [{"at": _iso(r["at"]), "kind": r["kind"], "text": r["text"]} for r in rows]
