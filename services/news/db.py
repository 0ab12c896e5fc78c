"""News tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
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

items = Table(
    "items", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("column", String(64), nullable=True),
    Column("author", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("current_revision", Integer, nullable=False),
    Column("last_submitted_revision", Integer, nullable=True),
    Column("approved_hash", String(64), nullable=True),
    Column("correlation_id", String(128), nullable=False, index=True),
    Column("ticket_id", String(64), nullable=True),
    Column("reference_no", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
)

revisions = Table(
    "revisions", metadata,
    Column("item_id", String(64), ForeignKey("items.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

publications = Table(
    "publications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("url", String(500), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("item_id", "channel", name="uq_publications_item_channel"),
)


def get_item(session: Session, item_id: str) -> dict[str, Any] | None:
    row = session.execute(select(items).where(items.c.id == item_id)).mappings().first()
    return dict(row) if row else None


def get_revision(session: Session, item_id: str, number: int) -> dict[str, Any] | None:
    row = session.execute(select(revisions).where(
        revisions.c.item_id == item_id, revisions.c.number == number)).mappings().first()
    return dict(row) if row else None


def item_revisions(session: Session, item_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(revisions).where(revisions.c.item_id == item_id)
                           .order_by(revisions.c.number)).mappings().all()
    return [dict(r) for r in rows]


def item_publications(session: Session, item_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(publications).where(publications.c.item_id == item_id)
                           .order_by(publications.c.id)).mappings().all()
    return [dict(r) for r in rows]


def find_items(session: Session, filters: dict[str, str | None], limit: int = 200
               ) -> list[dict[str, Any]]:
    query = select(items).order_by(items.c.created_at.desc()).limit(limit)
    for name in ("correlation_id", "status", "kind"):
        if filters.get(name):
            query = query.where(items.c[name] == filters[name])
    return [dict(r) for r in session.execute(query).mappings().all()]


def published_items(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(items).where(items.c.status == "published")
                           .order_by(items.c.published_at.desc())).mappings().all()
    return [dict(r) for r in rows]
