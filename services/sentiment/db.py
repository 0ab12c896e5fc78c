"""Sentiment tables (SQLAlchemy Core). Raw mentions are purged of text after the retention
period; `topic_buckets` (per-topic, per-minute aggregates) and `stories` stay."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql, sqlite
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
    Column("url", String(1024), nullable=True),
    Column("reposts", Integer, nullable=False, server_default="0"),
    Column("likes", Integer, nullable=False, server_default="0"),
    Column("comments", Integer, nullable=False, server_default="0"),
    Column("story_id", Integer, nullable=True),
    Column("purged_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("source", "external_id", name="uq_mentions_source_external"),
    Index("ix_mentions_published_at", "published_at"),
    Index("ix_mentions_story_id", "story_id"),
)

mention_topics = Table(
    "mention_topics", metadata,
    Column("mention_id", Integer, primary_key=True),
    Column("topic", String(64), primary_key=True),
    Column("label", String(16), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, index=True),
)

stories = Table(
    "stories", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("simhash", BigInteger, nullable=False),
    Column("band0", Integer, nullable=False, index=True),
    Column("band1", Integer, nullable=False, index=True),
    Column("band2", Integer, nullable=False, index=True),
    Column("band3", Integer, nullable=False, index=True),
    Column("first_mention_id", Integer, nullable=True),
    Column("mention_count", Integer, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False, index=True),
)

topic_buckets = Table(
    "topic_buckets", metadata,
    Column("topic", String(64), primary_key=True),
    Column("bucket", DateTime(timezone=True), primary_key=True),
    Column("volume", Integer, nullable=False),
    Column("negative", Integer, nullable=False),
    Column("positive", Integer, nullable=False),
    Column("weight", Float, nullable=False),
    Column("negative_weight", Float, nullable=False),
)

topic_baselines = Table(
    "topic_baselines", metadata,
    Column("topic", String(64), primary_key=True),
    Column("mean", Float, nullable=False),
    Column("var", Float, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("folded_until", DateTime(timezone=True), nullable=True),
)

incidents = Table(
    "incidents", metadata,
    Column("id", String(64), primary_key=True),
    Column("topic", String(64), nullable=False, index=True),
    Column("level", String(4), nullable=False),
    Column("status", String(16), nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("status_since", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("peak_level", String(4), nullable=True),
    Column("peak_negative", Integer, nullable=True),
    Column("evidence", Text, nullable=True),  # JSON: top mentions by reach, sentiment curve
)


def upsert(session: Session, table: Table):  # noqa: ANN201 - dialect-specific Insert
    """INSERT with ON CONFLICT support for the session's dialect (PostgreSQL or SQLite)."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))
