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

from sqlalchemy import insert, select, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, utcnow
from services.news import db, domain, metrics, queue
from services.news.config import NewsConfig
from services.news.handlers import aware, get_item, jsonable, load, set_item

log = logging.getLogger(__name__)


def sweep(uow: UnitOfWork, cfg: NewsConfig, now: datetime | None = None) -> dict[str, list[str]]:
    """One pass: who gets notified, what expires. Safe to run concurrently with itself (two
    replicas' timers, a CLI sweep): each item's step is one unit of work that claims the item
    (its row locked, the step decided again on what it then reads), so one sweep takes it."""
    now = now or utcnow()
    done: dict[str, list[str]] = {"notified": [], "expired": []}
    with uow:
        candidates = db.rows(uow.session, select(db.items).where(
            db.items.c.status.in_(domain.EXPIRABLE), db.items.c.expires_at <= now))
    for item in candidates:
        step = _step(item, cfg, now)
        if step == "notify" and _notify(uow, item["id"], cfg, now):
            done["notified"].append(item["id"])
        elif step == "expire" and _expire(uow, item["id"], cfg, now):
            done["expired"].append(item["id"])
    return done


def _step(item: dict[str, Any], cfg: NewsConfig, now: datetime) -> str | None:
    return domain.sweep_step(item["status"], aware(item["expires_at"]),
                             aware(item["expiry_notified_at"]), cfg.grace, now)


def _claim(uow: UnitOfWork, item_id: str, step: str, cfg: NewsConfig, now: datetime
           ) -> dict[str, Any] | None:
    """Lock the item (in `uow`'s transaction) if `step` is still what it needs; else None."""
    item = db.get_item(uow.session, item_id, for_update=True)
    return item if item is not None and _step(item, cfg, now) == step else None


def _notify(uow: UnitOfWork, item_id: str, cfg: NewsConfig, now: datetime) -> bool:
    grace_until = now + cfg.grace
    with uow:
        item = _claim(uow, item_id, "notify", cfg, now)
        if item is None:
            return False
        expires = aware(item["expires_at"])
        assert expires is not None
        set_item(uow, item["id"], expiry_notified_at=now)
        uow.session.execute(insert(db.notifications).values(
            recipient=item["author"], item_id=item["id"], kind="expiry",
            text=f"《{item['title']}》已超过时效（{expires.date().isoformat()}），"
                 f"将于{grace_until.date().isoformat()}过期归档；如需保留请更新或恢复。",
            created_at=now))
        uow.publish(new_event("news.item.expiring", {
            "item_id": item["id"], "revision": item["approved_revision"] or
            item["current_revision"], "kind": item["kind"], "title": item["title"],
            "owner": item["author"], "expires_at": expires.isoformat(),
            "grace_until": grace_until.isoformat()},
            correlation_id=item["correlation_id"], tlp="GREEN"))
        uow.commit()
    metrics.expiry_notices.inc()
    return True


def _expire(uow: UnitOfWork, item_id: str, cfg: NewsConfig, now: datetime) -> bool:
    with uow:
        current = _claim(uow, item_id, "expire", cfg, now)
        if current is None:
            return False
        status = domain.transition(current["status"], "expire")
        uow.session.execute(insert(db.archive).values(
            item_id=item_id, previous_status=current["status"],
            reason="past its column's maximum age" if not current["time_sensitive"]
            else "time-sensitive item past its validity",
            snapshot=jsonable(current), archived_at=now))
        set_item(uow, item_id, status=status, archived=True)
        queue.cancel_pending(uow, item_id)
        queue.enqueue(uow, current, "expire", cfg, now)
        uow.publish(new_event("news.item.expired", {
            "item_id": item_id, "revision": current["approved_revision"] or
            current["current_revision"], "kind": current["kind"], "title": current["title"],
            "reason": "outdated", "owner": current["author"]},
            correlation_id=current["correlation_id"], tlp="GREEN"))
        uow.commit()
    metrics.items_expired.inc()
    log.info("item %s expired and archived", item_id,
             extra={"correlation_id": current["correlation_id"]})
    return True


def restore(uow: UnitOfWork, item_id: str, cfg: NewsConfig, now: datetime | None = None
            ) -> dict[str, Any]:
    """Bring an archived item back to the status it had, current for another full period."""
    now = now or utcnow()
    with uow:
        item = load(uow, item_id)
        if item["status"] != "expired":
            raise domain.InvalidTransition(item["status"], "restore")
        entry = db.rows(uow.session, select(db.archive).where(
            db.archive.c.item_id == item_id, db.archive.c.restored_at.is_(None))
            .order_by(db.archive.c.id.desc()).limit(1))[0]
        previous = entry["previous_status"]
        uow.session.execute(update(db.archive).where(db.archive.c.id == entry["id"])
                            .values(restored_at=now))
        max_age = cfg.column(item["column"]).max_age_days
        set_item(uow, item_id, status=previous, archived=False, expiry_notified_at=None,
                 expires_at=domain.expires_at(now, max_age))
        queue.cancel_pending(uow, item_id)
        action = "retract" if previous == "retracted" else "publish"
        queue.enqueue(uow, {**item, "status": previous}, action, cfg, now)
        uow.publish(new_event("news.item.restored", {
            "item_id": item_id, "revision": item["approved_revision"] or
            item["current_revision"], "kind": item["kind"], "title": item["title"],
            "status": previous}, correlation_id=item["correlation_id"], tlp="GREEN"))
        uow.commit()
    return get_item(uow, item_id)


def archived(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [jsonable(r) for r in db.rows(uow.session, select(
            db.archive.c.id, db.archive.c.item_id, db.archive.c.previous_status,
            db.archive.c.reason, db.archive.c.archived_at, db.archive.c.restored_at)
            .order_by(db.archive.c.id.desc()))]


def notifications(uow: UnitOfWork, recipient: str | None = None) -> list[dict[str, Any]]:
    with uow:
        query = select(db.notifications).order_by(db.notifications.c.id.desc()).limit(200)
        if recipient:
            query = query.where(db.notifications.c.recipient == recipient)
        return [jsonable(r) for r in db.rows(uow.session, query)]
