"""Notify tables and queries (SQLAlchemy Core).

`deliveries` is one message to one recipient on one channel, recorded BEFORE it is attempted;
its `dedupe_key` (event id × recipient × channel) is unique, so a redelivered event adds
nothing. The inbox is the `inbox` channel's rows (`read_at` set when its owner reads it).
`attempts` is the delivery log: one row per try, with the outcome.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(36), primary_key=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("event_id", String(64), nullable=False, index=True),
    Column("event_type", String(64), nullable=False),
    Column("correlation_id", String(128), nullable=True, index=True),
    Column("rule", String(64), nullable=False),
    Column("recipient", String(128), nullable=False),   # staff name, agency:CODE, robot:NAME
    Column("channel", String(16), nullable=False),      # email, robot, inbox
    Column("address", String(254), nullable=True),      # e-mail address or robot name
    Column("urgent", Boolean, nullable=False, default=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(500), nullable=True),
    Column("status", String(16), nullable=False),       # pending, sending, sent, dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("held_reason", String(64), nullable=True),    # quiet_hours
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("read_at", DateTime(timezone=True), nullable=True),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_inbox", "channel", "recipient", "read_at"),
)

attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), ForeignKey("deliveries.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),       # sent, retry, dead
    Column("error", Text, nullable=True),
)

preferences = Table(
    "preferences", metadata,
    Column("name", String(64), primary_key=True),
    Column("channels", JSON, nullable=False),            # the channels the person accepts
    Column("quiet_start", String(5), nullable=True),     # "22:00"
    Column("quiet_end", String(5), nullable=True),       # "07:30"
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

digests = Table(
    "digests", metadata,
    Column("day", String(10), primary_key=True),         # 2026-11-29, one digest run per day
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("recipients", Integer, nullable=False),
)
