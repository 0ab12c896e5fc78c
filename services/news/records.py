"""News' raw records of a period (`GET /records`, admin only), for the assessment report: the
publicity plan's entries due in `[since, until)` (office days) with their item's first
publication, and the public comments received in the period with their replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from civicpulse import records
from civicpulse.db import UnitOfWork
from services.news import db
from services.news.handlers import OFFICE_TZ

COMMENT_COLUMNS = ("id", "item_id", "channel", "received_at", "reply_due_at", "replied_at",
                   "replied_by")


def period_records(uow: UnitOfWork, since: datetime, until: datetime) -> dict[str, Any]:
    first_from, last_before = (since.astimezone(OFFICE_TZ).date(),
                               until.astimezone(OFFICE_TZ).date())
    e, p, c = db.plan_entries.c, db.publications.c, db.comments.c
    published = (select(p.item_id, func.min(p.published_at).label("published_at"))
                 .group_by(p.item_id).subquery())
    with uow:
        s = uow.session
        entries = db.rows(s, select(e.id, e.title, e.kind, e.owner, e.due_on, e.item_id,
                                    published.c.published_at)
                          .outerjoin(published, published.c.item_id == e.item_id)
                          .where(e.due_on >= first_from, e.due_on < last_before)
                          .order_by(e.due_on, e.id))
        comments = db.rows(s, select(*(c[k] for k in COMMENT_COLUMNS))
                           .where(c.received_at >= since, c.received_at < until)
                           .order_by(c.received_at, c.id))
    return records.answer("news", since, until, plan_entries=entries, comments=comments)
