"""The expiry sweep (a @timer) and restoring archived items.

An item is outdated once its `expires_at` has passed — set at publication from its column's
maximum age, shortened when it is marked time-sensitive or has a `valid_until`. The sweep
notifies the owner (a notification row and `news.item.expiring`), and once the grace period
after the notice has passed it expires the item: status `expired`, an `archive` row with the
status it had and a snapshot, the channels told to take it down (`expire` deliveries: the
website keeps a page saying it expired and drops it from the index), `news.item.expired`.
Nothing is deleted: every revision and note stays, and `restore` brings the item back.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, utcnow
from civicpulse.serialize import jsonable
from services.news import db, domain, items, messages, metrics, queue
from services.news.config import NewsConfig
from services.news.domain import Item

log = logging.getLogger(__name__)


def sweep(uow: UnitOfWork, cfg: NewsConfig, now: datetime | None = None) -> dict[str, list[str]]:
    """One pass: who gets notified, what expires. Safe to run concurrently with itself (two
    replicas' timers, a CLI sweep): each item's step is one unit of work that claims the item
    (its row locked, the step decided again on what it then reads), so one sweep takes it."""
    now = now or utcnow()
    done: dict[str, list[str]] = {"notified": [], "expired": []}
    with uow:
        candidates = db.outdated(uow.session, domain.EXPIRABLE, now)
    for item in candidates:
        step = _step(item, cfg, now)
        if step == "notify" and _notify(uow, item.id, cfg, now):
            done["notified"].append(item.id)
        elif step == "expire" and _expire(uow, item.id, cfg, now):
            done["expired"].append(item.id)
    return done


def _step(item: Item, cfg: NewsConfig, now: datetime) -> str | None:
    return domain.sweep_step(item.status, item.expires_at, item.expiry_notified_at, cfg.grace,
                             now)


def _claim(uow: UnitOfWork, item_id: str, step: str, cfg: NewsConfig, now: datetime
           ) -> Item | None:
    """Lock the item (in `uow`'s transaction) if `step` is still what it needs; else None."""
    item = db.get_item(uow.session, item_id, for_update=True)
    return item if item is not None and _step(item, cfg, now) == step else None


def _notify(uow: UnitOfWork, item_id: str, cfg: NewsConfig, now: datetime) -> bool:
    grace_until = now + cfg.grace
    with uow:
        item = _claim(uow, item_id, "notify", cfg, now)
        if item is None:
            return False
        expires = item.expires_at
        assert expires is not None
        items.change(uow, item.id, expiry_notified_at=now)
        db.add_notification(uow.session, item.author, item.id, "expiry",
                            messages.expiry_notice(item.title, expires, grace_until), now)
        uow.publish(new_event("news.item.expiring", {
            "item_id": item.id, "revision": item.shown_revision, "kind": item.kind,
            "title": item.title, "owner": item.author, "expires_at": expires.isoformat(),
            "grace_until": grace_until.isoformat()},
            correlation_id=item.correlation_id, tlp="GREEN"))
        uow.commit()
    metrics.expiry_notices.inc()
    return True


def _expire(uow: UnitOfWork, item_id: str, cfg: NewsConfig, now: datetime) -> bool:
    with uow:
        current = _claim(uow, item_id, "expire", cfg, now)
        if current is None:
            return False
        status = domain.transition(current.status, "expire")
        db.add_archive_entry(uow.session, item_id, current.status,
                             domain.expiry_reason(current.time_sensitive),
                             jsonable(current.as_dict()), now)
        items.change(uow, item_id, status=status, archived=True)
        queue.cancel_pending(uow, item_id)
        queue.enqueue(uow, current, "expire", cfg, now)
        uow.publish(new_event("news.item.expired", {
            "item_id": item_id, "revision": current.shown_revision, "kind": current.kind,
            "title": current.title, "reason": "outdated", "owner": current.author},
            correlation_id=current.correlation_id, tlp="GREEN"))
        uow.commit()
    metrics.items_expired.inc()
    log.info("item %s expired and archived", item_id,
             extra={"correlation_id": current.correlation_id})
    return True


def restore(uow: UnitOfWork, item_id: str, cfg: NewsConfig, now: datetime | None = None
            ) -> dict[str, Any]:
    """Bring an archived item back to the status it had, current for another full period."""
    now = now or utcnow()
    with uow:
        item = items.load(uow, item_id)
        domain.check_restore(item.status)
        entry = db.open_archive_entry(uow.session, item_id)
        assert entry is not None
        previous = entry["previous_status"]
        db.mark_restored(uow.session, entry["id"], now)
        max_age = cfg.column(item.column).max_age_days
        items.change(uow, item_id, status=previous, archived=False, expiry_notified_at=None,
                     expires_at=domain.expires_at(now, max_age))
        queue.cancel_pending(uow, item_id)
        queue.enqueue(uow, item, domain.restore_action(previous), cfg, now)
        uow.publish(new_event("news.item.restored", {
            "item_id": item_id, "revision": item.shown_revision, "kind": item.kind,
            "title": item.title, "status": previous},
            correlation_id=item.correlation_id, tlp="GREEN"))
        uow.commit()
    return items.get_item(uow, item_id)


def archived(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [jsonable(r) for r in db.archive_entries(uow.session)]


def notifications(uow: UnitOfWork, recipient: str | None = None) -> list[dict[str, Any]]:
    with uow:
        return [jsonable(r) for r in db.list_notifications(uow.session, recipient)]
