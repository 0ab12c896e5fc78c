"""The append-only audit log of review: who did what to which revision, when, and why.

Only `append` writes; nothing in the service updates or deletes a row, and migration 0002 adds
database triggers (PostgreSQL and SQLite) that refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.review.db import audit_log
from services.review.domain import Case

COLUMNS = ("id", "at", "actor", "action", "case_id", "item_id", "revision", "content_hash",
           "stage", "comment", "detail")


def append(session: Session, case: Case, *, actor: str, action: str, at: datetime,
           stage: str | None = None, comment: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    session.execute(insert(audit_log).values(
        at=at, actor=actor, action=action, case_id=case.id, item_id=case.item_id,
        revision=case.revision, content_hash=case.content_hash, stage=stage,
        comment=comment, detail=json.dumps(detail, ensure_ascii=False, sort_keys=True)
        if detail is not None else None))


def entries(session: Session, *, case_id: str | None = None, item_id: str | None = None,
            since: datetime | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
    """Entries oldest first, JSON-ready (RFC 3339 times, detail decoded)."""
    query = select(audit_log).order_by(audit_log.c.id).limit(limit)
    if case_id:
        query = query.where(audit_log.c.case_id == case_id)
    if item_id:
        query = query.where(audit_log.c.item_id == item_id)
    if since:
        query = query.where(audit_log.c.at >= since)
    return [_view(dict(r)) for r in session.execute(query).mappings()]


def _view(row: dict[str, Any]) -> dict[str, Any]:
    at = row["at"]
    row["at"] = (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
    row["detail"] = json.loads(row["detail"]) if row["detail"] else None
    return row


# A spreadsheet evaluates a cell that starts with one of these as a formula (OWASP: CSV
# injection); such a cell is written with a leading apostrophe, which shows as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def defuse(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        detail = json.dumps(row["detail"], ensure_ascii=False, sort_keys=True) \
            if row["detail"] else ""
        writer.writerow({k: defuse(v) for k, v in {**row, "detail": detail}.items()})
    return out.getvalue()
