"""Notify tables and queries (SQLAlchemy Core).

`deliveries` is one message to one recipient on one channel, recorded BEFORE it is attempted;
its `dedupe_key` (event id × recipient × channel) is unique, so a redelivered event adds
nothing. The inbox is the `inbox` channel's rows (`read_at` set when its owner reads it).
`attempts` is the delivery log: one row per try, with the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from civicpulse.db import insert_once

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


# --- queries -----------------------------------------------------------------------------------

def existing_keys(session: Session, event_id: str) -> set[str]:
    rows = session.execute(select(deliveries.c.dedupe_key)
                           .where(deliveries.c.event_id == event_id)).scalars()
    return set(rows)


def claim_due(session: Session, now: datetime, lease_until: datetime,
              limit: int) -> list[dict[str, Any]]:
    """Claim up to `limit` due sends (pending, or claimed by a process that never finished):
    their try is counted and they are leased until `lease_until`. Rows another process holds
    (FOR UPDATE SKIP LOCKED on PostgreSQL) are left to it."""
    due = (select(deliveries.c.id)
           .where(deliveries.c.status.in_(("pending", "sending")),
                  deliveries.c.next_attempt_at <= now)
           .order_by(deliveries.c.next_attempt_at).limit(limit)
           .with_for_update(skip_locked=True))
    ids = list(session.execute(due).scalars())
    if not ids:
        return []
    session.execute(update(deliveries).where(deliveries.c.id.in_(ids)).values(
        status="sending", next_attempt_at=lease_until, attempts=deliveries.c.attempts + 1))
    rows = session.execute(select(deliveries).where(deliveries.c.id.in_(ids))).mappings()
    return [dict(r) for r in rows]


def inbox(session: Session, name: str, unread_only: bool, limit: int,
          before: datetime | None) -> list[dict[str, Any]]:
    q = select(deliveries.c.id, deliveries.c.subject, deliveries.c.body, deliveries.c.link,
               deliveries.c.event_type, deliveries.c.urgent, deliveries.c.created_at,
               deliveries.c.read_at).where(deliveries.c.channel == "inbox",
                                           deliveries.c.recipient == f"staff:{name}")
    if unread_only:
        q = q.where(deliveries.c.read_at.is_(None))
    if before is not None:
        q = q.where(deliveries.c.created_at < before)
    rows = session.execute(q.order_by(deliveries.c.created_at.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def unread_count(session: Session, name: str) -> int:
    return session.execute(select(func.count()).select_from(deliveries).where(
        deliveries.c.channel == "inbox", deliveries.c.recipient == f"staff:{name}",
        deliveries.c.read_at.is_(None))).scalar_one()


def mark_read(session: Session, name: str, ids: list[str] | None, now: datetime) -> int:
    q = update(deliveries).where(deliveries.c.channel == "inbox",
                                 deliveries.c.recipient == f"staff:{name}",
                                 deliveries.c.read_at.is_(None))
    if ids is not None:
        q = q.where(deliveries.c.id.in_(ids))
    return session.execute(q.values(read_at=now)).rowcount


def log(session: Session, filters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    q = select(deliveries)
    for key in ("event_id", "correlation_id", "recipient", "channel", "status"):
        if filters.get(key):
            q = q.where(getattr(deliveries.c, key) == filters[key])
    rows = session.execute(q.order_by(deliveries.c.created_at, deliveries.c.id).limit(limit))
    return [dict(r) for r in rows.mappings()]


def attempts_of(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.execute(select(attempts).where(attempts.c.delivery_id.in_(ids))
                           .order_by(attempts.c.id)).mappings()
    for r in rows:
        out[r["delivery_id"]].append(dict(r))
    return out


def preferences_of(session: Session, names: list[str]) -> dict[str, dict[str, Any]]:
    if not names:
        return {}
    rows = session.execute(select(preferences).where(preferences.c.name.in_(names))).mappings()
    return {r["name"]: dict(r) for r in rows}


def counts(session: Session) -> dict[tuple[str, str], int]:
    rows = session.execute(select(deliveries.c.channel, deliveries.c.status, func.count())
                           .group_by(deliveries.c.channel, deliveries.c.status))
    return {(c, s): n for c, s, n in rows}


def digest_done(session: Session, day: str) -> bool:
    return session.execute(select(digests.c.day).where(digests.c.day == day)).first() is not None


def claim_digest(session: Session, day: str, now: datetime) -> bool:
    """Take the day's digest (False if another process or an earlier run took it)."""
    return insert_once(session, digests, day=day, sent_at=now, recipients=0)


def count_digest(session: Session, day: str, recipients: int) -> None:
    session.execute(update(digests).where(digests.c.day == day).values(recipients=recipients))


def commit_without_waiting_for_disk(session: Session) -> None:
    """This transaction's commit returns once PostgreSQL has it, before its WAL is flushed
    (`synchronous_commit = off` for this transaction only). A notify process killed after the
    commit loses nothing; only a crash of the database server itself within ~0.6 s could forget
    the outcome, and the message would then be sent once more. One flush per sent message
    would otherwise bound the send rate by the disk."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
