"""Joint meetings (联席会议): scheduled with agencies and shared with the attendees only;
minutes recorded afterwards; each decision becomes a task with an owner and a due time."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, new_id, utcnow
from services.liaison import db
from services.liaison.config import LiaisonConfig
from services.liaison.handlers import Effect, TicketNotFound, _names, _share, _timeline
from services.liaison.ticket_work import join, resolve_agencies


def schedule(uow: UnitOfWork, ticket_id: str, title: str, starts_at: datetime,
             agencies: list[str], by: str, cfg: LiaisonConfig,
             now: datetime | None = None) -> tuple[str, Effect]:
    now = now or utcnow()
    attendees = list(resolve_agencies(cfg, agencies))  # codes and sharing groups
    meeting_id = f"mtg-{new_id()[:12]}"
    with uow:
        t = db.ticket_by_id(uow.session, ticket_id)
        if t is None:
            raise TicketNotFound(ticket_id)
        # an invited agency not on the ticket joins it first (with its backfill), the same
        # path as POST /tickets/<id>/agencies: the notice then goes to agencies on the ticket
        backfilled = join(uow, ticket_id, tuple(attendees), by, cfg, now, "，受邀参加联席会议")
        uow.session.execute(insert(db.meetings).values(
            id=meeting_id, ticket_id=ticket_id, title=title, starts_at=starts_at,
            agencies=json.dumps(attendees), created_at=now))
        event = new_event("liaison.meeting.scheduled", {
            "meeting_id": meeting_id, "ticket_id": ticket_id, "title": title,
            "starts_at": starts_at.isoformat(), "agencies": attendees},
            correlation_id=t["incident_id"], tlp="AMBER")
        uow.publish(event)
        _timeline(uow, ticket_id, now, "meeting.scheduled",
                  f"联席会议「{title}」定于 {starts_at.isoformat(timespec='minutes')}，"
                  f"参会：{'、'.join(_names(cfg, attendees))}（{by}）", event.id, pinned=True,
                  author=by)
        on_ticket = db.agencies_of(uow.session, ticket_id)
        invited = [a for a in attendees if a in on_ticket]
        shared = _share(uow, ticket_id, event, invited, cfg, now)  # AMBER: attendees only
        uow.commit()
    return meeting_id, Effect(ticket_id, t["status"], backfilled + shared).count()


def record_minutes(uow: UnitOfWork, meeting_id: str, minutes: str,
                   decisions: list[dict[str, Any]], by: str,
                   now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    with uow:
        m = uow.session.execute(select(db.meetings).where(db.meetings.c.id == meeting_id)
                                ).mappings().first()
        if m is None:
            raise TicketNotFound(meeting_id)
        uow.session.execute(update(db.meetings).where(db.meetings.c.id == meeting_id)
                            .values(minutes=minutes))
        task_ids = []
        for i, d in enumerate(decisions, 1):
            task_ids.append(int(uow.session.execute(insert(db.tasks).values(
                ticket_id=m["ticket_id"], code=f"{meeting_id}-d{i}", title=d["title"],
                assignee=d["owner"], status="todo", due_at=d["due_at"], created_at=now)
            ).inserted_primary_key[0]))
        _timeline(uow, m["ticket_id"], now, "meeting.minutes",
                  f"联席会议「{m['title']}」纪要已记录，形成决定 {len(decisions)} 项并转为任务"
                  f"（{by}）", author=by)
        uow.commit()
    return task_ids


def meeting_ticket(uow: UnitOfWork, meeting_id: str) -> str | None:
    with uow:
        return uow.session.execute(select(db.meetings.c.ticket_id)
                                   .where(db.meetings.c.id == meeting_id)).scalar_one_or_none()
