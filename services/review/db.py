"""Review tables and queries (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
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
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from civicpulse.db import insert_once, rows
from civicpulse.serialize import aware
from services.review.domain import CASE_FIELDS, Case

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
    # everyone who wrote any revision of the item, JSON list (NULL before migration 0004)
    Column("authors", Text, nullable=True),
    Column("workflow", String(32), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("stage_due_at", DateTime(timezone=True), nullable=True),
    Column("correlation_id", String(128), nullable=False, index=True),
    Column("ticket_id", String(64), nullable=True),
    Column("reference_no", String(32), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("stage_entered_at", DateTime(timezone=True), nullable=True),
    Column("overdue_at", DateTime(timezone=True), nullable=True),
    Column("entry_stage", String(32), nullable=True),
    Column("resumed_from", String(64), nullable=True),
    UniqueConstraint("item_id", "revision", name="uq_cases_item_revision"),
    Index("ix_cases_open_due", "status", "stage_due_at"),
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
    Column("carried_from", String(64), nullable=True),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), ForeignKey("cases.id"), nullable=False, index=True),
    Column("rule", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("excerpt", Text, nullable=False, default=""),
)

escalations = Table(
    "escalations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(64), ForeignKey("cases.id"), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("roles", Text, nullable=False),      # JSON list: who is told, by role
    Column("notified", Text, nullable=False),   # JSON list: the active staff holding them
    Column("at", DateTime(timezone=True), nullable=False),
)

# Append-only: the code only inserts; migration 0002 adds triggers refusing UPDATE and DELETE.
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("case_id", String(64), nullable=False, index=True),
    Column("item_id", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("stage", String(32), nullable=True),
    Column("comment", Text, nullable=True),
    Column("detail", Text, nullable=True),      # JSON: checklist, findings counts, ...
)

reference_counters = Table(
    "reference_counters", metadata,
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)


# --- writes of the case use cases (handlers never write SQL) -----------------------------------

def add_case(session: Session, values: dict[str, Any]) -> bool:
    """Insert a case; False when the (item, revision) has one already."""
    return insert_once(session, cases, **values)


def add_findings(session: Session, case_id: str, found: list[dict[str, Any]]) -> None:
    session.execute(insert(findings), [{"case_id": case_id, **f} for f in found])


def add_decision(session: Session, **values: Any) -> None:
    session.execute(insert(decisions).values(**values))


def move_case(session: Session, case_id: str, stage: str, values: dict[str, Any]) -> bool:
    """Change an open case still at `stage`; False when another decision moved it first."""
    return session.execute(update(cases).where(
        cases.c.id == case_id, cases.c.status == "open", cases.c.stage == stage)
        .values(**values)).rowcount == 1


def next_in_year(session: Session, year: int) -> int:
    """The next number of `year`'s sequence; its counter row serialises concurrent callers."""
    if session.execute(select(reference_counters.c.last)
                       .where(reference_counters.c.year == year)).first() is None:
        insert_once(session, reference_counters, year=year, last=0)
    session.execute(update(reference_counters).where(reference_counters.c.year == year)
                    .values(last=reference_counters.c.last + 1))
    return int(session.execute(select(reference_counters.c.last)
                               .where(reference_counters.c.year == year)).scalar_one())


def claim_overdue(session: Session, now: Any) -> list[Case]:
    """Mark every open stage past its deadline overdue and return those cases: one
    `UPDATE ... WHERE overdue_at IS NULL RETURNING`, so of two sweepers only one gets each."""
    found = session.execute(update(cases).where(
        cases.c.status == "open", cases.c.stage_due_at.is_not(None),
        cases.c.stage_due_at < now, cases.c.overdue_at.is_(None),
    ).values(overdue_at=now).returning(*cases.c)).mappings().all()
    return [_case(r) for r in found]


def add_escalation(session: Session, **values: Any) -> None:
    session.execute(insert(escalations).values(**values))



def _case(row: Mapping[str, Any]) -> Case:
    return Case(**{k: aware(row[k]) if isinstance(row[k], datetime) else row[k]
                   for k in CASE_FIELDS})


def get_case(session: Session, case_id: str) -> Case | None:
    row = session.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
    return _case(row) if row else None


def case_decisions(session: Session, case_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(decisions).where(decisions.c.case_id == case_id)
                           .order_by(decisions.c.id)).mappings().all()
    return [dict(r) for r in rows]


def find_cases(session: Session, filters: Mapping[str, Any]) -> list[Case]:
    """The cases `filters` asks for (`status` may list several, joined by commas), in its
    `order`, one page (`limit`, `offset`)."""
    c = cases.c
    order = {"due": [c.stage_due_at.asc().nulls_last(), c.stage_entered_at, c.created_at],
             "updated": [c.updated_at.desc()]}.get(filters.get("order") or "",
                                                   [c.created_at.desc()])
    query = (select(cases).where(*_case_filters(filters)).order_by(*order, c.id)
             .limit(filters.get("limit") or 200).offset(filters.get("offset") or 0))
    return [_case(r) for r in session.execute(query).mappings().all()]


def count_cases(session: Session, filters: Mapping[str, Any]) -> int:
    """How many cases `filters` matches, its page aside."""
    return session.execute(select(func.count()).select_from(cases)
                           .where(*_case_filters(filters))).scalar_one()


def _case_filters(filters: Mapping[str, Any]) -> list[Any]:
    out = [cases.c.status.in_(str(filters["status"]).split(","))] if filters.get("status") \
        else []
    return out + [cases.c[name] == filters[name] for name in ("stage", "item_id",
                                                              "correlation_id")
                  if filters.get(name)]


def case_findings(session: Session, case_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(findings.c.rule, findings.c.severity, findings.c.message,
                                  findings.c.excerpt)
                           .where(findings.c.case_id == case_id).order_by(findings.c.id))
    return [dict(r) for r in rows.mappings()]


def case_escalations(session: Session, case_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(escalations).where(escalations.c.case_id == case_id)
                           .order_by(escalations.c.id)).mappings().all()
    return [dict(r) for r in rows]


def latest_returned_case(session: Session, item_id: str, before_revision: int
                         ) -> Case | None:
    """The item's most recent earlier case, if it ended in a return for changes."""
    row = session.execute(select(cases).where(
        cases.c.item_id == item_id, cases.c.revision < before_revision)
        .order_by(cases.c.revision.desc()).limit(1)).mappings().first()
    return _case(row) if row and row["status"] == "returned" else None


def open_by_stage(session: Session) -> dict[str, int]:
    rows = session.execute(select(cases.c.stage, func.count()).where(cases.c.status == "open")
                           .group_by(cases.c.stage)).all()
    return {stage: n for stage, n in rows}


def oldest_entered_by_stage(session: Session) -> dict[str, Any]:
    """stage → when its longest-waiting open case entered it."""
    rows = session.execute(select(cases.c.stage, func.min(cases.c.stage_entered_at))
                           .where(cases.c.status == "open").group_by(cases.c.stage)).all()
    return {stage: at for stage, at in rows if at is not None}


def count_overdue_open(session: Session, now: Any) -> int:
    return session.execute(select(func.count()).select_from(cases).where(
        cases.c.status == "open", cases.c.stage_due_at < now)).scalar_one()


def count_open(session: Session) -> int:
    return session.execute(select(func.count()).select_from(cases)
                           .where(cases.c.status == "open")).scalar_one()


# --- the period's records (GET /records) ------------------------------------------------------

def cases_in_period(session: Session, since: Any, until: Any, columns: tuple[str, ...]
                    ) -> list[dict[str, Any]]:
    """Cases submitted in `[since, until)` or with a decision in it, oldest first."""
    decided = select(decisions.c.case_id).where(decisions.c.at >= since, decisions.c.at < until)
    return rows(session, select(*(cases.c[c] for c in columns)).where(or_(
        and_(cases.c.created_at >= since, cases.c.created_at < until),
        cases.c.id.in_(decided))).order_by(cases.c.created_at, cases.c.id))


def decisions_of(session: Session, case_ids: list[str]) -> list[dict[str, Any]]:
    d = decisions.c
    return rows(session, select(d.case_id, d.stage, d.reviewer, d.decision, d.at, d.carried_from)
                .where(d.case_id.in_(case_ids)).order_by(d.id))


def escalations_of(session: Session, case_ids: list[str]) -> list[dict[str, Any]]:
    e = escalations.c
    return rows(session, select(e.case_id, e.stage, e.due_at, e.at)
                .where(e.case_id.in_(case_ids)).order_by(e.id))
