"""Review's raw records of a period (`GET /records`, admin only), for the assessment report:
the cases submitted or decided in `[since, until)` with all their decisions and overdue
escalations (who is in which section comes from the identity service's records)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from civicpulse import records
from civicpulse.db import UnitOfWork
from services.review import db

CASE_COLUMNS = ("id", "item_id", "revision", "kind", "author", "workflow", "stage", "status",
                "entry_stage", "ticket_id", "created_at", "updated_at")


def period_records(uow: UnitOfWork, since: datetime, until: datetime) -> dict[str, Any]:
    with uow:
        s = uow.session
        cases = db.cases_in_period(s, since, until, CASE_COLUMNS)
        ids = [c["id"] for c in cases]
        decisions = db.decisions_of(s, ids)
        escalations = db.escalations_of(s, ids)
    return records.answer("review", since, until, cases=cases, decisions=decisions,
                          escalations=escalations)
