"""Notify's raw records of a period (`GET /records`, admin only), for the assessment report:
every message to a staff member recorded in `[since, until)` on the personal channels (inbox,
e-mail), with whether and when it was delivered and, for the inbox, read. Agency contacts and
group robots are not people of the office and are left out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from civicpulse import records
from civicpulse.db import UnitOfWork
from services.notify import db

STAFF_PREFIX = "staff:"
COLUMNS = ("id", "event_type", "rule", "recipient", "channel", "urgent", "status", "created_at",
           "sent_at", "read_at")


def period_records(uow: UnitOfWork, since: datetime, until: datetime) -> dict[str, Any]:
    d = db.deliveries.c
    with uow:
        rows = [dict(r) for r in uow.session.execute(
            select(*(d[k] for k in COLUMNS))
            .where(d.created_at >= since, d.created_at < until,
                   d.channel.in_(("inbox", "email")), d.recipient.startswith(STAFF_PREFIX))
            .order_by(d.created_at, d.id)).mappings()]
    for row in rows:
        row["person"] = row.pop("recipient").removeprefix(STAFF_PREFIX)
    return records.answer("notify", since, until, notifications=rows)
