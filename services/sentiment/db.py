"""Sentiment tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    select,
)
from sqlalchemy.orm import Session

metadata = MetaData()

mentions = Table(
    "mentions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("channel", String(64), nullable=False, default="web"),
    Column("author_hash", String(64), nullable=True),
    Column("text", Text, nullable=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("reach", Integer, nullable=False, default=0),
    Column("score", Float, nullable=False),
    Column("label", String(16), nullable=False),
    UniqueConstraint("source", "external_id", name="uq_mentions_source_external"),
)

mention_topics = Table(
    "mention_topics", metadata,
    Column("mention_id", Integer, primary_key=True),
    Column("topic", String(64), primary_key=True),
    Column("label", String(16), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, index=True),
)

incidents = Table(
    "incidents", metadata,
    Column("id", String(64), primary_key=True),
    Column("topic", String(64), nullable=False, index=True),
    Column("level", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def window_counts(session: Session, topic: str, since: datetime) -> tuple[int, int]:
    """(negative, volume) of a topic's mentions published since `since`."""
    row = session.execute(
        select(func.count(), func.sum((mention_topics.c.label == "negative").cast(Integer)))
        .where(and_(mention_topics.c.topic == topic, mention_topics.c.published_at >= since))
    ).one()
    return int(row[1] or 0), int(row[0] or 0)


def open_incident(session: Session, topic: str) -> dict | None:
    row = session.execute(
        select(incidents).where(and_(incidents.c.topic == topic,
                                     incidents.c.status.in_(("detected", "escalated"))))
    ).mappings().first()
    return dict(row) if row else None
