"""Review's raw records of a period (`GET /records`, admin only), for the assessment report:
the cases submitted or decided in `[since, until)` with all their decisions and overdue
escalations (who is in which section comes from the identity service's records)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from civicpulse import records
from civicpulse.db import UnitOfWork, rows
from services.review import db

CASE_COLUMNS = ("id", "item_id", "revision", "kind", "author", "workflow", "stage", "status",
                "entry_stage", "ticket_id", "created_at", "updated_at")


def period_records(uow: UnitOfWork, since: datetime, until: datetime) -> dict[str, Any]:
    with uow:
        s = uow.session
        decided = select(db.decisions.c.case_id).where(db.decisions.c.at >= since,
                                                       db.decisions.c.at < until)
        cases = rows(s, select(*(db.cases.c[c] for c in CASE_COLUMNS)).where(or_(
            and_(db.cases.c.created_at >= since, db.cases.c.created_at < until),
            db.cases.c.id.in_(decided)))
            .order_by(db.cases.c.created_at, db.cases.c.id))
        ids = [c["id"] for c in cases]
        decisions = rows(s, select(db.decisions.c.case_id, db.decisions.c.stage,
                                      db.decisions.c.reviewer, db.decisions.c.decision,
                                      db.decisions.c.at, db.decisions.c.carried_from)
                            .where(db.decisions.c.case_id.in_(ids))
                            .order_by(db.decisions.c.id))
        escalations = rows(s, select(db.escalations.c.case_id, db.escalations.c.stage,
                                        db.escalations.c.due_at, db.escalations.c.at)
                              .where(db.escalations.c.case_id.in_(ids))
                              .order_by(db.escalations.c.id))
    return records.answer("review", since, until, cases=cases, decisions=decisions,
                          escalations=escalations)
