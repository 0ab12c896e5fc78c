"""Liaison tables (SQLAlchemy Core) and the repositories use cases reach them through.

A repository per aggregate (the ticket with its participants, facts and snapshots; its
timeline; its shares; its tasks; its deadline timers; its meetings) takes the unit of work's
session and speaks in `domain` values: use cases never write SQL or pass rows around.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpulse.serialize import aware
from services.liaison import domain

metadata = MetaData()

tickets = Table(
    "tickets", metadata,
    Column("id", String(64), primary_key=True),
    Column("incident_id", String(128), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("level", String(4), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("title", String(255), nullable=False),
    Column("lead_section", String(128), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("acknowledge_due_at", DateTime(timezone=True), nullable=False),
    Column("first_response_due_at", DateTime(timezone=True), nullable=False),
    Column("resolve_due_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("incident_id", name="uq_tickets_incident_id"),
)

participants = Table(
    "participants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("party", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("role", String(16), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("ticket_id", "party", name="uq_participants_ticket_party"),
)

ticket_facts = Table(
    # when each plan deadline was met, who commands, and the review's lessons (one row a ticket)
    "ticket_facts", metadata,
    Column("ticket_id", String(64), ForeignKey("tickets.id"), primary_key=True),
    Column("commander", String(128), nullable=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("first_response_at", DateTime(timezone=True), nullable=True),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("lessons", Text, nullable=True),
)

deadlines = Table(
    # durable timers: a row per (deadline, escalation step); fired_at is claimed exactly once
    "deadlines", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("step", Integer, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("fired_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(16), nullable=True),
    UniqueConstraint("ticket_id", "kind", "step", name="uq_deadlines_ticket_kind_step"),
)

agencies = Table(
    # the agency directory as data: seeded (upserted) from config/agencies.yaml at every start
    "agencies", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # propaganda | cyberspace | media | section
    Column("contacts", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

partner_accounts = Table(
    # an agency's access: its RabbitMQ user (password never stored) and its HTTP token's hash
    "partner_accounts", metadata,
    Column("agency", String(64), primary_key=True),
    Column("amqp_user", String(128), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=True),
)

shared_events = Table(
    # every event liaison shared (or withheld, RED), once, with its body: the backfill source
    "shared_events", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("event_type", String(128), nullable=False),
    Column("tlp", String(8), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

snapshots = Table(
    # the incident's opinion figures as sentiment reported them (the review's curve)
    "incident_snapshots", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("source", String(64), nullable=False),
    Column("level", String(4), nullable=True),
    Column("negative_ratio", Float, nullable=True),
    Column("volume", Integer, nullable=True),
    Column("event_id", String(64), nullable=False, unique=True),
)

meetings = Table(
    "meetings", metadata,
    Column("id", String(64), primary_key=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("title", String(255), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("agencies", Text, nullable=False),  # JSON list of agency codes
    Column("minutes", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tasks = Table(
    "tasks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("code", String(64), nullable=False),
    Column("title", String(255), nullable=False),
    Column("assignee", String(128), nullable=False),
    Column("status", String(16), nullable=False, default="todo"),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

timeline = Table(
    "timeline", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("event_id", String(64), nullable=True),
    Column("pinned", Boolean, nullable=False, default=False),
    Column("author", String(128), nullable=True),
)

shares = Table(
    "shares", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(64), ForeignKey("tickets.id"), nullable=False, index=True),
    Column("agency", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("tlp", String(8), nullable=False),
    Column("shared_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("event_id", "agency", name="uq_shares_event_agency"),
)

# --- webhook delivery (services/liaison/webhooks.py): an agency's optional HTTPS endpoint ---

partner_webhooks = Table(
    # one endpoint per agency; `secret` signs (HMAC) and so is kept; the sender leases the agency
    # (`lease_until`), so one replica at a time sends its deliveries, in order, and backs off
    # per agency (`failures`, `next_attempt_at`)
    "partner_webhooks", metadata,
    Column("agency", String(64), primary_key=True),
    Column("url", String(500), nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("secret_rotated_at", DateTime(timezone=True), nullable=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("lease_owner", String(64), nullable=True),
)

webhook_deliveries = Table(
    # one share to an agency with a webhook, recorded in the share's own transaction (outbox)
    "webhook_deliveries", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency", String(64), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(128), nullable=False),
    Column("tlp", String(8), nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("agency", "event_id", name="uq_webhook_deliveries_agency_event"),
    Index("ix_webhook_deliveries_agency_status", "agency", "status", "created_at"),
)

webhook_attempts = Table(
    # the delivery log: one row per POST, with its outcome
    "webhook_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), ForeignKey("webhook_deliveries.id"), nullable=False,
           index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered | failed | dead
    Column("http_status", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=True),
)


# --- repositories: one per aggregate, speaking in domain values ------------------------------

def _ticket(row: Any) -> domain.Ticket:
    return domain.Ticket(
        id=row["id"], incident_id=row["incident_id"], topic=row["topic"], level=row["level"],
        status=row["status"], title=row["title"], lead_section=row["lead_section"],
        opened_at=aware(row["opened_at"]), updated_at=aware(row["updated_at"]),
        due={k: aware(row[f"{k}_due_at"]) for k in domain.DEADLINE_KEYS})


def _due_columns(due: dict[str, datetime]) -> dict[str, datetime]:
    return {f"{k}_due_at": v for k, v in due.items()}


def _with_facts() -> Any:
    return tickets.outerjoin(ticket_facts, ticket_facts.c.ticket_id == tickets.c.id)


def _next_due() -> Any:
    """The ticket's first plan deadline whose fact is still missing (NULL when all are met)."""
    return case(*[(ticket_facts.c[fact].is_(None), tickets.c[f"{kind}_due_at"])
                  for kind, fact in domain.DEADLINE_FACTS.items()], else_=None)


def _ticket_filters(q: domain.TicketQuery) -> list[Any]:
    t, p = tickets.c, participants.c
    wanted = {t.incident_id: q.incident_id, t.status: q.status, t.level: q.level,
              t.lead_section: q.lead_section, ticket_facts.c.commander: q.commander}
    out = [column == value for column, value in wanted.items() if value]
    if q.in_work:
        out.append(t.status.notin_(tuple(domain.SETTLED)))
    if q.agency:
        out.append(t.id.in_(select(p.ticket_id).where(p.kind == "agency",
                                                      p.party == q.agency)))
    return out


class Tickets:
    """The ticket aggregate: the ticket row, its participants, its facts and its snapshots."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # the ticket
    def get(self, ticket_id: str) -> domain.Ticket | None:
        row = self.session.execute(select(tickets).where(tickets.c.id == ticket_id)
                                   ).mappings().first()
        return _ticket(row) if row else None

    def by_incident(self, incident_id: str) -> domain.Ticket | None:
        row = self.session.execute(select(tickets).where(tickets.c.incident_id == incident_id)
                                   ).mappings().first()
        return _ticket(row) if row else None

    def add(self, ticket: domain.Ticket) -> bool:
        """Insert the ticket and its (empty) facts; False if its incident already has one."""
        if self.by_incident(ticket.incident_id) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.execute(insert(tickets).values(
                    id=ticket.id, incident_id=ticket.incident_id, topic=ticket.topic,
                    level=ticket.level, status=ticket.status, title=ticket.title,
                    lead_section=ticket.lead_section, opened_at=ticket.opened_at,
                    updated_at=ticket.updated_at, **_due_columns(ticket.due)))
        except IntegrityError:  # a concurrent event for the same incident won
            return False
        self.session.execute(insert(ticket_facts).values(ticket_id=ticket.id))
        return True

    def list(self, query: domain.TicketQuery | None = None) -> list[domain.Ticket]:
        """The tickets `query` asks for, in its order, one page of them when it has a limit."""
        q = query or domain.TicketQuery()
        t = tickets.c
        order = ([_next_due().asc().nulls_last(), t.opened_at.desc(), t.id] if q.order == "due"
                 else [t.opened_at.desc(), t.id])
        sql = (select(tickets).select_from(_with_facts()).where(*_ticket_filters(q))
               .order_by(*order).offset(q.offset))
        if q.limit is not None:
            sql = sql.limit(q.limit)
        return [_ticket(r) for r in self.session.execute(sql).mappings()]

    def count(self, query: domain.TicketQuery) -> int:
        """How many tickets `query` matches, its page aside."""
        return self.session.execute(select(func.count()).select_from(_with_facts())
                                    .where(*_ticket_filters(query))).scalar_one()

    def facts_of(self, ticket_ids: Collection[str]) -> dict[str, domain.Facts]:
        """The facts of many tickets in one query (tickets without a row: empty facts)."""
        found = {tid: domain.Facts() for tid in ticket_ids}
        if not found:
            return found
        for row in self.session.execute(select(ticket_facts).where(
                ticket_facts.c.ticket_id.in_(list(found)))).mappings():
            found[row["ticket_id"]] = domain.Facts(**{
                k: aware(v) if isinstance(v, datetime) else v
                for k, v in row.items() if k != "ticket_id"})
        return found

    def opened_between(self, since: datetime, until: datetime) -> list[domain.Ticket]:
        query = (select(tickets).where(tickets.c.opened_at >= since, tickets.c.opened_at < until)
                 .order_by(tickets.c.opened_at, tickets.c.id))
        return [_ticket(r) for r in self.session.execute(query).mappings()]

    def compare_and_set_status(self, ticket: domain.Ticket, status: str,
                               now: datetime) -> bool:
        """Move the ticket to `status` if it is still in the status it was read with."""
        result = self.session.execute(
            update(tickets).where(tickets.c.id == ticket.id, tickets.c.status == ticket.status)
            .values(status=status, updated_at=now))
        return result.rowcount == 1

    def raise_level(self, ticket_id: str, level: str, lead_section: str, status: str,
                    due: dict[str, datetime], now: datetime) -> None:
        self.session.execute(update(tickets).where(tickets.c.id == ticket_id).values(
            level=level, lead_section=lead_section, status=status, updated_at=now,
            **_due_columns(due)))

    def count_by_level_status(self) -> dict[tuple[str, str], int]:
        rows = self.session.execute(select(tickets.c.level, tickets.c.status, func.count())
                                    .group_by(tickets.c.level, tickets.c.status)).all()
        return {(lv, st): n for lv, st, n in rows}

    def count_overdue(self, now: datetime) -> dict[tuple[str, str], int]:
        """(deadline, level) → tickets still in work (not settled) whose plan deadline has
        passed without the fact that meets it."""
        live = tickets.c.status.notin_(tuple(domain.SETTLED))
        out: dict[tuple[str, str], int] = {}
        for kind, fact in domain.DEADLINE_FACTS.items():
            rows = self.session.execute(
                select(tickets.c.level, func.count())
                .select_from(tickets.outerjoin(ticket_facts,
                                               ticket_facts.c.ticket_id == tickets.c.id))
                .where(live, tickets.c[f"{kind}_due_at"] < now, ticket_facts.c[fact].is_(None))
                .group_by(tickets.c.level)).all()
            out.update({(kind, level): n for level, n in rows})
        return out

    # participants
    def agencies(self, ticket_id: str) -> list[str]:
        """Partner agencies on a ticket, in the order they joined."""
        return list(self.session.execute(
            select(participants.c.party)
            .where(participants.c.ticket_id == ticket_id, participants.c.kind == "agency")
            .order_by(participants.c.id)).scalars())

    def participants(self, ticket_id: str) -> list[domain.Participant]:
        return [domain.Participant(**r) for r in _rows(self.session, participants, ticket_id)]

    def add_participant(self, ticket_id: str, party: str, kind: str, role: str,
                        now: datetime) -> None:
        self.session.execute(insert(participants).values(
            ticket_id=ticket_id, party=party, kind=kind, role=role, added_at=now))

    def set_role(self, ticket_id: str, party: str, role: str, now: datetime) -> None:
        """Give a person a role on the ticket (a commander is unique: the previous one steps
        down to observer)."""
        p = participants.c
        if role == "commander":
            self.session.execute(update(ticket_facts).where(ticket_facts.c.ticket_id == ticket_id)
                                 .values(commander=party))
            self.session.execute(update(participants).where(
                p.ticket_id == ticket_id, p.role == "commander").values(role="observer"))
        existing = self.session.execute(select(p.id).where(
            p.ticket_id == ticket_id, p.party == party)).scalar_one_or_none()
        if existing is None:
            self.add_participant(ticket_id, party, "person", role, now)
        else:
            self.session.execute(update(participants).where(p.id == existing).values(role=role))

    # facts
    def facts(self, ticket_id: str) -> domain.Facts:
        row = self.session.execute(select(ticket_facts).where(
            ticket_facts.c.ticket_id == ticket_id)).mappings().first()
        if row is None:
            return domain.Facts()
        return domain.Facts(**{k: aware(v) if isinstance(v, datetime) else v
                               for k, v in row.items() if k != "ticket_id"})

    def set_fact(self, ticket_id: str, fact: str, at: datetime) -> None:
        """Record the first time a fact happened (acknowledged_at, ...): later calls keep it."""
        col = ticket_facts.c[fact]
        self.session.execute(update(ticket_facts).where(
            ticket_facts.c.ticket_id == ticket_id, col.is_(None)).values({fact: at}))

    def set_lessons(self, ticket_id: str, lessons: str) -> None:
        self.session.execute(update(ticket_facts).where(ticket_facts.c.ticket_id == ticket_id)
                             .values(lessons=lessons))

    # the opinion curve
    def add_snapshot(self, ticket_id: str, at: datetime, source: str, level: str | None,
                     negative_ratio: float | None, volume: int | None, event_id: str) -> None:
        self.session.execute(insert(snapshots).values(
            ticket_id=ticket_id, at=at, source=source, level=level,
            negative_ratio=negative_ratio, volume=volume, event_id=event_id))

    def snapshots(self, ticket_id: str) -> list[domain.Snapshot]:
        return [domain.Snapshot(**{**r, "at": aware(r["at"])})
                for r in _rows(self.session, snapshots, ticket_id, snapshots.c.at)]


class Timeline:
    """The ticket's timeline: what happened, in words, with who and which event."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, ticket_id: str, at: datetime, kind: str, text: str,
            event_id: str | None = None, pinned: bool = False, author: str | None = None
            ) -> None:
        self.session.execute(insert(timeline).values(
            ticket_id=ticket_id, at=at, kind=kind, text=text, event_id=event_id, pinned=pinned,
            author=author))

    def entries(self, ticket_id: str) -> list[domain.TimelineEntry]:
        return [domain.TimelineEntry(**r)
                for r in _rows(self.session, timeline, ticket_id, timeline.c.at)]

    def of_kinds(self, ticket_ids: Sequence[str], kinds: Sequence[str]
                 ) -> list[domain.TimelineEntry]:
        t = timeline.c
        rows = self.session.execute(select(timeline).where(
            t.ticket_id.in_(list(ticket_ids)), t.kind.in_(list(kinds)))
            .order_by(t.at, t.id)).mappings()
        return [domain.TimelineEntry(**r) for r in rows]

    def by_author(self, ticket_id: str, author: str, kinds: Sequence[str]
                  ) -> list[domain.TimelineEntry]:
        t = timeline.c
        rows = self.session.execute(select(timeline).where(
            t.ticket_id == ticket_id, t.author == author, t.kind.in_(list(kinds)))
            .order_by(t.at, t.id)).mappings()
        return [domain.TimelineEntry(**r) for r in rows]

    def pin(self, ticket_id: str, entry_id: int, pinned: bool) -> bool:
        result = self.session.execute(update(timeline).where(
            timeline.c.id == entry_id, timeline.c.ticket_id == ticket_id).values(pinned=pinned))
        return result.rowcount == 1


class Shares:
    """What liaison shared about a ticket: each event once (its body), each delivery per agency."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def keep_event(self, ticket_id: str, event_id: str, event_type: str, tlp: str, body: str,
                   at: datetime) -> None:
        self.session.execute(insert(shared_events).values(
            event_id=event_id, ticket_id=ticket_id, event_type=event_type, tlp=tlp, body=body,
            at=at))

    def add(self, ticket_id: str, agency: str, event_id: str, event_type: str, tlp: str,
            at: datetime) -> None:
        self.session.execute(insert(shares).values(
            ticket_id=ticket_id, agency=agency, event_id=event_id, event_type=event_type,
            tlp=tlp, shared_at=at))

    def event_ids_sent_to(self, ticket_id: str, agency: str) -> set[str]:
        return set(self.session.execute(select(shares.c.event_id).where(
            shares.c.ticket_id == ticket_id, shares.c.agency == agency)).scalars())

    def events(self, ticket_id: str) -> list[domain.SharedEvent]:
        se = shared_events.c
        rows = self.session.execute(select(shared_events).where(se.ticket_id == ticket_id)
                                    .order_by(se.at, se.event_id)).mappings()
        return [domain.SharedEvent(**r) for r in rows]

    def list(self, ticket_id: str) -> list[domain.Share]:
        return [domain.Share(**r)
                for r in _rows(self.session, shares, ticket_id, shares.c.shared_at)]

    def received_by(self, ticket_id: str, agency: str) -> list[tuple[str, datetime]]:
        """(body, shared_at) of every event shared with `agency` about the ticket, never RED."""
        s, e = shares.c, shared_events.c
        rows = self.session.execute(
            select(e.body, s.shared_at)
            .join(shared_events, e.event_id == s.event_id)
            .where(s.ticket_id == ticket_id, s.agency == agency, s.tlp != "RED",
                   e.tlp != "RED")
            .order_by(s.shared_at, s.id)).all()
        return [(body, aware(at)) for body, at in rows]


class Tasks:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, ticket_id: str, code: str, title: str, assignee: str, due_at: datetime,
            now: datetime) -> int:
        return int(self.session.execute(insert(tasks).values(
            ticket_id=ticket_id, code=code, title=title, assignee=assignee, status="todo",
            due_at=due_at, created_at=now)).inserted_primary_key[0])

    def get(self, ticket_id: str, task_id: int) -> domain.Task | None:
        row = self.session.execute(select(tasks).where(
            tasks.c.id == task_id, tasks.c.ticket_id == ticket_id)).mappings().first()
        return domain.Task(**row) if row else None

    def change(self, task_id: int, **values: str) -> None:
        self.session.execute(update(tasks).where(tasks.c.id == task_id).values(**values))

    def list(self, ticket_id: str) -> list[domain.Task]:
        return [domain.Task(**r) for r in _rows(self.session, tasks, ticket_id, tasks.c.due_at)]

    def of_person(self, name: str, section: str | None, statuses: Sequence[str] = (),
                  limit: int | None = None, offset: int = 0
                  ) -> list[tuple[domain.Task, str]]:
        """(task, ticket title) of the tasks assigned to `name`, or to their `section` (the
        plan assigns the lead section's tasks by its name, or `lead` on a ticket it leads),
        in any of `statuses` (all when empty); the earliest due first, one page."""
        query = (select(tasks, tickets.c.title.label("ticket_title"))
                 .join(tickets, tickets.c.id == tasks.c.ticket_id)
                 .where(*_tasks_of(name, section, statuses))
                 .order_by(tasks.c.due_at, tasks.c.id).offset(offset))
        if limit is not None:
            query = query.limit(limit)
        out = []
        for row in self.session.execute(query).mappings():
            values = dict(row)
            title = values.pop("ticket_title")
            out.append((domain.Task(**{**values, "due_at": aware(values["due_at"]),
                                       "created_at": aware(values["created_at"])}), title))
        return out

    def count_of_person(self, name: str, section: str | None,
                        statuses: Sequence[str] = ()) -> int:
        return self.session.execute(
            select(func.count()).select_from(tasks.join(tickets, tickets.c.id == tasks.c.ticket_id))
            .where(*_tasks_of(name, section, statuses))).scalar_one()


def _tasks_of(name: str, section: str | None, statuses: Sequence[str]) -> list[Any]:
    mine = tasks.c.assignee == name
    if section:
        mine = or_(mine, tasks.c.assignee == section,
                   and_(tasks.c.assignee == domain.LEAD, tickets.c.lead_section == section))
    return [mine] + ([tasks.c.status.in_(list(statuses))] if statuses else [])


class Timers:
    """Durable deadline timers: a row per (deadline, escalation step), fired exactly once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, ticket_id: str, kind: str, step: int, due_at: datetime) -> None:
        self.session.execute(insert(deadlines).values(
            ticket_id=ticket_id, kind=kind, step=step, due_at=due_at))

    def due_ids(self, now: datetime, limit: int, skip: Collection[int] = ()) -> list[int]:
        query = (select(deadlines.c.id).where(deadlines.c.fired_at.is_(None),
                                              deadlines.c.due_at <= now)
                 .order_by(deadlines.c.due_at, deadlines.c.id).limit(limit))
        if skip:
            query = query.where(deadlines.c.id.not_in(list(skip)))
        return list(self.session.execute(query).scalars())

    def claim(self, timer_id: int, now: datetime) -> tuple[str, str, int] | None:
        """Mark the timer fired unless someone already did: (ticket_id, kind, step) or None."""
        claimed = self.session.execute(
            update(deadlines).where(deadlines.c.id == timer_id, deadlines.c.fired_at.is_(None))
            .values(fired_at=now).returning(deadlines.c.ticket_id, deadlines.c.kind,
                                            deadlines.c.step)).first()
        return None if claimed is None else (claimed[0], claimed[1], claimed[2])

    def set_outcome(self, timer_id: int, outcome: str) -> None:
        self.session.execute(update(deadlines).where(deadlines.c.id == timer_id)
                             .values(outcome=outcome))

    def bring_forward(self, ticket_id: str, kind: str, due_at: datetime) -> None:
        """A pending first step moves up to a stronger (earlier) deadline."""
        d = deadlines.c
        self.session.execute(update(deadlines).where(
            d.ticket_id == ticket_id, d.kind == kind, d.step == 1, d.fired_at.is_(None),
            d.due_at > due_at).values(due_at=due_at))

    def step(self, ticket_id: str, kind: str, step: int) -> domain.Timer | None:
        d = deadlines.c
        row = self.session.execute(select(deadlines).where(
            d.ticket_id == ticket_id, d.kind == kind, d.step == step)).mappings().first()
        return domain.Timer(**row) if row else None

    def move_earlier(self, timer_id: int, due_at: datetime) -> None:
        d = deadlines.c
        self.session.execute(update(deadlines).where(d.id == timer_id, d.due_at > due_at)
                             .values(due_at=due_at))

    def list(self, ticket_id: str) -> list[domain.Timer]:
        return [domain.Timer(**r)
                for r in _rows(self.session, deadlines, ticket_id, deadlines.c.due_at)]


def _meeting(row: Any) -> domain.Meeting:
    return domain.Meeting(**{**row, "agencies": json.loads(row["agencies"])})


class Meetings:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, meeting: domain.Meeting) -> None:
        self.session.execute(insert(meetings).values(
            id=meeting.id, ticket_id=meeting.ticket_id, title=meeting.title,
            starts_at=meeting.starts_at, agencies=json.dumps(meeting.agencies),
            minutes=meeting.minutes, created_at=meeting.created_at))

    def get(self, meeting_id: str) -> domain.Meeting | None:
        row = self.session.execute(select(meetings).where(meetings.c.id == meeting_id)
                                   ).mappings().first()
        return _meeting(row) if row else None

    def set_minutes(self, meeting_id: str, minutes: str) -> None:
        self.session.execute(update(meetings).where(meetings.c.id == meeting_id)
                             .values(minutes=minutes))

    def list(self, ticket_id: str) -> list[domain.Meeting]:
        return [_meeting(r)
                for r in _rows(self.session, meetings, ticket_id, meetings.c.starts_at)]


class Agencies:
    """The agency directory as data (the `agencies` table)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[domain.DirectoryEntry]:
        rows = self.session.execute(select(agencies).order_by(agencies.c.code)).mappings()
        return [_entry(r) for r in rows]

    def get(self, code: str) -> domain.DirectoryEntry | None:
        row = self.session.execute(select(agencies).where(agencies.c.code == code)
                                   ).mappings().first()
        return _entry(row) if row else None

    def insert_new(self, code: str, values: dict[str, Any], now: datetime) -> bool:
        """Insert unless another replica just did (ON CONFLICT DO NOTHING where available)."""
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            stmt: Any = postgresql.insert(agencies).on_conflict_do_nothing(
                index_elements=["code"])
        elif dialect == "sqlite":
            stmt = sqlite.insert(agencies).on_conflict_do_nothing(index_elements=["code"])
        else:  # pragma: no cover - the service runs on PostgreSQL or SQLite
            stmt = insert(agencies)
        return bool(self.session.execute(
            stmt.values(code=code, **values, updated_at=now)).rowcount)

    def change(self, code: str, values: dict[str, Any], now: datetime) -> None:
        self.session.execute(update(agencies).where(agencies.c.code == code)
                             .values(**values, updated_at=now))

    def deactivate(self, codes: Sequence[str], now: datetime) -> None:
        self.session.execute(update(agencies).where(agencies.c.code.in_(list(codes)))
                             .values(active=False, updated_at=now))


def _entry(row: Any) -> domain.DirectoryEntry:
    return domain.DirectoryEntry(code=row["code"], name=row["name"], kind=row["kind"],
                                 contacts=list(row["contacts"]), active=bool(row["active"]),
                                 updated_at=aware(row["updated_at"]))


class PartnerAccounts:
    """Agencies' partner access (the password lives on the broker only, the token as a hash)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def replace(self, agency: str, amqp_user: str, token_sha256: str, now: datetime) -> None:
        self.delete(agency)
        self.session.execute(insert(partner_accounts).values(
            agency=agency, amqp_user=amqp_user, token_sha256=token_sha256, created_at=now))

    def set_token(self, agency: str, token_sha256: str, now: datetime) -> None:
        self.session.execute(update(partner_accounts).where(partner_accounts.c.agency == agency)
                             .values(token_sha256=token_sha256, rotated_at=now))

    def delete(self, agency: str) -> None:
        self.session.execute(delete(partner_accounts)
                             .where(partner_accounts.c.agency == agency))

    def get(self, agency: str) -> domain.PartnerAccount | None:
        row = self.session.execute(select(partner_accounts).where(
            partner_accounts.c.agency == agency)).mappings().first()
        return domain.PartnerAccount(**row) if row else None

    def all(self) -> list[domain.PartnerAccount]:
        rows = self.session.execute(select(partner_accounts)
                                    .order_by(partner_accounts.c.agency)).mappings()
        return [domain.PartnerAccount(**r) for r in rows]

    def agency_for(self, token_sha256: str) -> str | None:
        """The agency holding this token, unless the directory marks the agency inactive."""
        pa, ag = partner_accounts, agencies
        return self.session.execute(
            select(pa.c.agency).select_from(pa.outerjoin(ag, ag.c.code == pa.c.agency))
            .where(pa.c.token_sha256 == token_sha256,
                   or_(ag.c.active.is_(None), ag.c.active.is_(True)))).scalar_one_or_none()


@dataclass(frozen=True)
class Repositories:
    """Every repository of the liaison database, on one session (one unit of work)."""

    tickets: Tickets
    timeline: Timeline
    shares: Shares
    tasks: Tasks
    timers: Timers
    meetings: Meetings


def repositories(session: Session) -> Repositories:
    return Repositories(Tickets(session), Timeline(session), Shares(session), Tasks(session),
                        Timers(session), Meetings(session))


def _rows(session: Session, table: Table, ticket_id: str, *order: Any) -> list[dict[str, Any]]:
    query = select(table).where(table.c.ticket_id == ticket_id).order_by(*order, table.c.id)
    return [dict(r) for r in session.execute(query).mappings()]
