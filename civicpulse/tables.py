"""Platform tables that every service's database holds: the outbox and the inbox.

Each service's first Alembic revision creates them with `create_platform_tables(op)`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

platform_metadata = MetaData()

outbox_table = Table(
    "outbox",
    platform_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("event_type", String(128), nullable=False),
    Column("exchange", String(255), nullable=False),
    Column("routing_key", String(255), nullable=False),
    Column("correlation_id", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL"),
          sqlite_where=text("sent_at IS NULL")),
)

inbox_table = Table(
    "inbox",
    platform_metadata,
    Column("consumer", String(128), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)


def create_platform_tables(op: Any) -> None:
    """Alembic helper: create the outbox and inbox in a service's first revision."""
    platform_metadata.create_all(op.get_bind(), checkfirst=True)


def drop_platform_tables(op: Any) -> None:
    """Alembic helper: the reverse of `create_platform_tables`."""
    platform_metadata.drop_all(op.get_bind(), checkfirst=True)
