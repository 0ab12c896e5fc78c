"""Liaison tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
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


def ticket_by_incident(session: Session, incident_id: str) -> dict[str, Any] | None:
    row = session.execute(select(tickets).where(tickets.c.incident_id == incident_id)
                          ).mappings().first()
    return dict(row) if row else None


def ticket_by_id(session: Session, ticket_id: str) -> dict[str, Any] | None:
    row = session.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().first()
    return dict(row) if row else None


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
