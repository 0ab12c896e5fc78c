"""Liaison tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

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
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

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


def ticket_by_incident(session: Session, incident_id: str) -> dict[str, Any] | None:
    row = session.execute(select(tickets).where(tickets.c.incident_id == incident_id)
                          ).mappings().first()
    return dict(row) if row else None


def ticket_by_id(session: Session, ticket_id: str) -> dict[str, Any] | None:
    row = session.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
    return dict(row) if row else None


def open_tasks(session: Session, names: list[str], section: str | None,
               status: str | None) -> list[dict[str, Any]]:
    """Tasks assigned to any of `names`, or to the lead section (`lead`) of tickets `section`
    leads, with their ticket's title and status; the earliest due first."""
    mine = tasks.c.assignee.in_(names)
    if section:
        mine = or_(mine, and_(tasks.c.assignee == "lead", tickets.c.lead_section == section))
    query = (select(tasks, tickets.c.title.label("ticket_title"),
                    tickets.c.status.label("ticket_status"))
             .join(tickets, tickets.c.id == tasks.c.ticket_id).where(mine)
             .order_by(tasks.c.due_at, tasks.c.id))
    if status:
        query = query.where(tasks.c.status == status)
    return [dict(r) for r in session.execute(query).mappings()]


def list_tickets(session: Session, *, incident_id: str | None = None,
                 status: str | None = None) -> list[dict[str, Any]]:
    query = select(tickets).order_by(tickets.c.opened_at.desc(), tickets.c.id)
    if incident_id:
        query = query.where(tickets.c.incident_id == incident_id)
    if status:
        query = query.where(tickets.c.status == status)
    return [dict(r) for r in session.execute(query).mappings()]


def agencies_of(session: Session, ticket_id: str) -> list[str]:
    """Partner agencies on a ticket, in the order they joined."""
    return list(session.execute(
        select(participants.c.party)
        .where(participants.c.ticket_id == ticket_id, participants.c.kind == "agency")
        .order_by(participants.c.id)).scalars())


def rows_of(session: Session, table: Table, ticket_id: str, *order: Any) -> list[dict[str, Any]]:
    query = select(table).where(table.c.ticket_id == ticket_id).order_by(*order, table.c.id)
    return [dict(r) for r in session.execute(query).mappings()]


def facts_of(session: Session, ticket_id: str) -> dict[str, Any]:
    row = session.execute(select(ticket_facts).where(ticket_facts.c.ticket_id == ticket_id)
                          ).mappings().first()
    return dict(row) if row else {}


def count_by_level_status(session: Session) -> list[tuple[dict[str, str], int]]:
    rows = session.execute(select(tickets.c.level, tickets.c.status, func.count())
                           .group_by(tickets.c.level, tickets.c.status)).all()
    return [({"level": lv, "status": st}, n) for lv, st, n in rows]


def count_overdue_deadlines(session: Session, now: Any) -> dict[tuple[str, str], int]:
    """(deadline, level) → tickets still in work (not resolved or closed) whose plan deadline
    has passed without the fact that meets it."""
    live = tickets.c.status.notin_(("resolved", "closed"))
    out: dict[tuple[str, str], int] = {}
    for kind, fact in (("acknowledge", "acknowledged_at"), ("first_response",
                                                            "first_response_at"),
                       ("resolve", "resolved_at")):
        rows = session.execute(
            select(tickets.c.level, func.count())
            .select_from(tickets.outerjoin(ticket_facts, ticket_facts.c.ticket_id == tickets.c.id))
            .where(live, tickets.c[f"{kind}_due_at"] < now, ticket_facts.c[fact].is_(None))
            .group_by(tickets.c.level)).all()
        out.update({(kind, level): n for level, n in rows})
    return out
