"""Joint meetings (联席会议): scheduled with agencies and shared with the attendees only;
minutes recorded afterwards; each decision becomes a task with an owner and a due time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, new_id, utcnow
from services.liaison import domain, messages, tickets
from services.liaison.config import LiaisonConfig
from services.liaison.tickets import Effect, TicketNotFound


def schedule(uow: UnitOfWork, ticket_id: str, title: str, starts_at: datetime,
             agencies: list[str], by: str, cfg: LiaisonConfig,
             now: datetime | None = None) -> tuple[str, Effect]:
    now = now or utcnow()
    attendees = list(tickets.resolve_agencies(cfg, agencies))  # codes and sharing groups
    meeting = domain.Meeting(id=f"mtg-{new_id()[:12]}", ticket_id=ticket_id, title=title,
                             starts_at=starts_at, agencies=attendees, minutes=None,
                             created_at=now)
    with uow:
        ticket = tickets.get(uow, ticket_id)
        # an invited agency not on the ticket joins it first (with its backfill), the same
        # path as POST /tickets/<id>/agencies: the notice then goes to agencies on the ticket
        backfilled = tickets.join(uow, ticket_id, attendees, by, cfg, now, messages.VIA_MEETING)
        tickets.repos(uow).meetings.add(meeting)
        event = new_event("liaison.meeting.scheduled", {
            "meeting_id": meeting.id, "ticket_id": ticket_id, "title": title,
            "starts_at": starts_at.isoformat(), "agencies": attendees},
            correlation_id=ticket.incident_id, tlp="AMBER")
        tickets.note(uow, ticket_id, now, "meeting.scheduled",
                     messages.meeting_scheduled(title, starts_at,
                                                tickets.agency_names(cfg, attendees), by),
                     event.id, pinned=True, author=by)
        on_ticket = tickets.repos(uow).tickets.agencies(ticket_id)
        invited = [a for a in attendees if a in on_ticket]
        shared = tickets.publish_and_share(uow, ticket_id, event, cfg, now,
                                           agencies=invited)  # AMBER: attendees only
        uow.commit()
    return meeting.id, Effect(ticket_id, ticket.status, backfilled + shared).count()


def record_minutes(uow: UnitOfWork, meeting_id: str, minutes: str,
                   decisions: list[dict[str, Any]], by: str,
                   now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    with uow:
        r = tickets.repos(uow)
        meeting = r.meetings.get(meeting_id)
        if meeting is None:
            raise TicketNotFound(meeting_id)
        r.meetings.set_minutes(meeting_id, minutes)
        task_ids = [r.tasks.add(meeting.ticket_id, f"{meeting_id}-d{i}", d["title"], d["owner"],
                                d["due_at"], now)
                    for i, d in enumerate(decisions, 1)]
        tickets.note(uow, meeting.ticket_id, now, "meeting.minutes",
                     messages.minutes_recorded(meeting.title, len(decisions), by), author=by)
        uow.commit()
    return task_ids


def meeting_ticket(uow: UnitOfWork, meeting_id: str) -> str | None:
    with uow:
        meeting = tickets.repos(uow).meetings.get(meeting_id)
        return meeting.ticket_id if meeting else None
