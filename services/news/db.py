"""News tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
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
    # added in 0002: embargo, expiry, approval
    Column("approved_revision", Integer, nullable=True),
    Column("publish_at", DateTime(timezone=True), nullable=True),
    Column("time_sensitive", Boolean, nullable=False, server_default="0"),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True, index=True),
    Column("expiry_notified_at", DateTime(timezone=True), nullable=True),
    Column("archived", Boolean, nullable=False, server_default="0"),
)

revisions = Table(
    "revisions", metadata,
    Column("item_id", String(64), ForeignKey("items.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    # who wrote this revision (separation of duties: no author of any revision reviews it);
    # NULL only for revisions written before migration 0003 (their item's author wrote them)
    Column("author", String(64), nullable=True),
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


# One row per (item, action, channel) to deliver: the per-channel publication queue.
deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("status", String(16), nullable=False),          # pending, sent, failed, cancelled
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True, index=True),
    Column("last_error", Text, nullable=True),
    Column("url", String(500), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
)

# Corrections and retractions, in order: the item's public history.
notes = Table(
    "notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),              # correction, retraction
    Column("note", Text, nullable=False),
    Column("by", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Expired items: what they were before (restorable); nothing is deleted.
archive = Table(
    "archive", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=False, index=True),
    Column("previous_status", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("snapshot", JSON, nullable=False),
    Column("archived_at", DateTime(timezone=True), nullable=False),
    Column("restored_at", DateTime(timezone=True), nullable=True),
)

notifications = Table(
    "notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient", String(64), nullable=False, index=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
)

plan_themes = Table(
    "plan_themes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(7), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

plan_entries = Table(
    "plan_entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("theme_id", Integer, ForeignKey("plan_themes.id"), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("column", String(64), nullable=True),
    Column("owner", String(64), nullable=True),
    Column("due_on", Date, nullable=False),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=True),
)

channel_stats = Table(
    "channel_stats", metadata,
    Column("item_id", String(64), ForeignKey("items.id"), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("views", Integer, nullable=False),
    Column("likes", Integer, nullable=False),
    Column("comments", Integer, nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=False),
)

comments = Table(
    "comments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(64), ForeignKey("items.id"), nullable=True, index=True),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("author", String(128), nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("reply_due_at", DateTime(timezone=True), nullable=False, index=True),
    Column("reply", Text, nullable=True),
    Column("replied_by", String(64), nullable=True),
    Column("replied_at", DateTime(timezone=True), nullable=True),
    # when `news.comment.overdue` was recorded for it (once per comment)
    Column("overdue_notified_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("channel", "external_id", name="uq_comments_channel_external"),
)


def rows(session: Session, query: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(query).mappings().all()]


def get_item(session: Session, item_id: str, *, for_update: bool = False
             ) -> dict[str, Any] | None:
    """The item's row; `for_update` locks it until the transaction ends (PostgreSQL), so a
    concurrent writer that read it the same way waits and then sees this one's outcome."""
    query = select(items).where(items.c.id == item_id)
    row = session.execute(query.with_for_update() if for_update else query).mappings().first()
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


def live_items(session: Session) -> list[dict[str, Any]]:
    return rows(session, select(items).where(items.c.status.in_(("published", "corrected")))
                .order_by(items.c.published_at.desc()))


def item_deliveries(session: Session, item_id: str) -> list[dict[str, Any]]:
    return rows(session, select(deliveries).where(deliveries.c.item_id == item_id)
                .order_by(deliveries.c.id))


def item_notes(session: Session, item_id: str) -> list[dict[str, Any]]:
    return rows(session, select(notes).where(notes.c.item_id == item_id).order_by(notes.c.id))
