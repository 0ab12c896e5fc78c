"""News' raw records of a period (`GET /records`, admin only), for the assessment report: the
publicity plan's entries due in `[since, until)` (office days) with their item's first
publication, and the public comments received in the period with their replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from civicpulse import records
from civicpulse.db import UnitOfWork
from services.news import db
from services.news.domain import OFFICE_TZ

COMMENT_COLUMNS = ("id", "item_id", "channel", "received_at", "reply_due_at", "replied_at",
                   "replied_by")


def period_records(uow: UnitOfWork, since: datetime, until: datetime) -> dict[str, Any]:
    first_from, last_before = (since.astimezone(OFFICE_TZ).date(),
                               until.astimezone(OFFICE_TZ).date())
    with uow:
        entries = db.entries_due(uow.session, first_from, last_before)
        comments = db.comments_received(uow.session, since, until, COMMENT_COLUMNS)
    return records.answer("news", since, until, plan_entries=entries, comments=comments)
