"""The publication queue as people read it: per channel, what is waiting or has failed, with
its retry state (attempts, next attempt, last error) and the item's title. Read only."""

from __future__ import annotations

from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.serialize import iso, jsonable
from services.news import db, queue
from services.news.config import NewsConfig

OPEN = ("pending", "failed")
LIMIT = 500


def listing(uow: UnitOfWork, cfg: NewsConfig, channel: str | None = None,
            include_sent: bool = False, limit: int = LIMIT) -> dict[str, Any]:
    """`channels`: each configured channel with its enabled flag, depth (pending), failed
    count and since when it has been failing; `deliveries`: the open (or, with `include_sent`,
    all) deliveries, newest first, each with its item's title."""
    with uow:
        rows = [jsonable(r) for r in db.deliveries_with_items(
            uow.session, None if include_sent else OPEN, channel, limit)]
    depth = queue.queue_depth(uow)
    failing = queue.failing_since(uow)
    with uow:
        failed = db.failed_by_channel(uow.session)
    channels = [{"channel": name, "enabled": spec.enabled, "pending": depth.get(name, 0),
                 "failed": failed.get(name, 0), "failing_since": iso(failing.get(name))}
                for name, spec in cfg.channels.items()]
    return {"channels": channels, "deliveries": rows}
