"""Review tables and queries (SQLAlchemy Core)."""

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
    func,
    select,
)
from sqlalchemy.orm import Session

metadata = MetaData()

cases = Table(
    "cases", metadata,
    Column("id", String(64), primary_key=True),
    Column("item_id", String(64), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("kind", String(32), nullable=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("author", String(64), nullable=False),
    Column("workflow", String(32), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("stage_due_at", DateTime(timezone=True), nullable=True),
    Column("correlation_id", String(128), nullable=False, index=True),
    Column("ticket_id", String(64), nullable=True),
    Column("reference_no", String(32), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("item_id", "revision", name="uq_cases_item_revision"),
)

decisions = Table(
    "decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), ForeignKey("cases.id"), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("reviewer", String(64), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("comment", Text, nullable=True),
    Column("checklist", Text, nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

staff = Table(
    "staff", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

reference_counters = Table(
    "reference_counters", metadata,
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)


def get_case(session: Session, case_id: str) -> dict[str, Any] | None:
    row = session.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
    return dict(row) if row else None


def case_decisions(session: Session, case_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(decisions).where(decisions.c.case_id == case_id)
                           .order_by(decisions.c.id)).mappings().all()
    return [dict(r) for r in rows]


def find_cases(session: Session, filters: dict[str, str | None], limit: int = 200
               ) -> list[dict[str, Any]]:
    query = select(cases).order_by(cases.c.created_at.desc()).limit(limit)
    for name in ("status", "stage", "item_id", "correlation_id"):
        if filters.get(name):
            query = query.where(cases.c[name] == filters[name])
    return [dict(r) for r in session.execute(query).mappings().all()]


def staff_by_token_hash(session: Session, token_hash: str) -> dict[str, Any] | None:
    row = session.execute(select(staff).where(staff.c.token_hash == token_hash)
                          ).mappings().first()
    return dict(row) if row else None


def list_staff(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(staff.c.name, staff.c.role, staff.c.created_at)
                           .order_by(staff.c.name)).mappings().all()
    return [dict(r) for r in rows]


def count_open(session: Session) -> int:
    return session.execute(select(func.count()).select_from(cases)
                           .where(cases.c.status == "open")).scalar_one()
