"""The publication queue as people read it: per channel, what is waiting or has failed, with
its retry state (attempts, next attempt, last error) and the item's title. Read only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from civicpulse.db import UnitOfWork
from services.news import db, handlers, queue
from services.news.config import NewsConfig

OPEN = ("pending", "failed")
LIMIT = 500


def listing(uow: UnitOfWork, cfg: NewsConfig, channel: str | None = None,
            include_sent: bool = False, limit: int = LIMIT) -> dict[str, Any]:
    """`channels`: each configured channel with its enabled flag, depth (pending), failed
    count and since when it has been failing; `deliveries`: the open (or, with `include_sent`,
    all) deliveries, newest first, each with its item's title."""
    d, i = db.deliveries.c, db.items.c
    query = (select(db.deliveries, i.title, i.status.label("item_status"))
             .join(db.items, i.id == d.item_id).order_by(d.id.desc()).limit(limit))
    if not include_sent:
        query = query.where(d.status.in_(OPEN))
    if channel:
        query = query.where(d.channel == channel)
    with uow:
        rows = [handlers.jsonable(r) for r in db.rows(uow.session, query)]
    depth = queue.queue_depth(uow)
    failing = queue.failing_since(uow)
    with uow:
        failed = dict(uow.session.execute(select(d.channel, func.count()).where(
            d.status == "failed").group_by(d.channel)).all())
    channels = [{"channel": name, "enabled": spec.enabled, "pending": depth.get(name, 0),
                 "failed": failed.get(name, 0), "failing_since": _iso(failing.get(name))}
                for name, spec in cfg.channels.items()]
    return {"channels": channels, "deliveries": rows}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
