"""The per-channel publication queue.

Publishing, correcting, retracting or expiring an item queues one delivery per channel of its
column (`enqueue`, inside the use case's unit of work). `deliver_due` — driven by a @timer and
called right after an approval — claims due deliveries, formats and transmits each outside any
transaction, and records the outcome in its own unit of work: success, or a retry with
exponential backoff until the channel's attempts run out (`failed`, `news.delivery.failed`).
Channels are independent: one failing channel never holds up another.

`news.item.published` is emitted once per item, when its first channel succeeds (the item turns
`published` then); each channel's later outcome is on the item's publication status. Several
workers (the timer, an approval, another replica) may finish deliveries of one item at the same
moment: the success is recorded with the item's row locked, so exactly one of them sees it
unpublished. Only the approved revision goes out: a delivery whose revision's content is not
the approved content is cancelled before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, utcnow
from services.news import db, domain, metrics
from services.news.channels import Channel, TransmitError, build
from services.news.channels.formatters import page_name
from services.news.config import NewsConfig

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)   # a claimed delivery is retried after this if its worker died
VALID_FOR = {"publish": ("approved", "scheduled", "published", "corrected"),
             "correct": ("corrected",), "retract": ("retracted",), "expire": ("expired",)}


def enqueue(uow: UnitOfWork, item: dict[str, Any], action: str, cfg: NewsConfig,
            now: datetime) -> list[str]:
    """Queue `action` of the item's approved revision on each enabled channel of its column."""
    queued = []
    for name in cfg.column(item["column"]).channels:
        spec = cfg.channels[name]
        if not spec.enabled:
            log.info("channel %s not configured: %s of %s not queued", name, action, item["id"])
            continue
        uow.session.execute(insert(db.deliveries).values(
            item_id=item["id"], revision=item["approved_revision"] or item["current_revision"],
            channel=name, action=action, status="pending", attempts=0, next_attempt_at=now,
            created_at=now))
        queued.append(name)
    return queued


def cancel_pending(uow: UnitOfWork, item_id: str) -> None:
    uow.session.execute(update(db.deliveries).where(
        db.deliveries.c.item_id == item_id, db.deliveries.c.status == "pending")
        .values(status="cancelled", next_attempt_at=None))


def _claim(uow: UnitOfWork, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Take due deliveries with a lease (a conditional update, so two workers never send the
    same one at the same time)."""
    claimed = []
    with uow:
        due = db.rows(uow.session, select(db.deliveries).where(
            db.deliveries.c.status == "pending", db.deliveries.c.next_attempt_at <= now)
            .order_by(db.deliveries.c.next_attempt_at, db.deliveries.c.id).limit(limit))
        for d in due:
            won = uow.session.execute(update(db.deliveries).where(
                db.deliveries.c.id == d["id"], db.deliveries.c.status == "pending",
                db.deliveries.c.next_attempt_at == d["next_attempt_at"])
                .values(next_attempt_at=now + LEASE)).rowcount
            if won:
                claimed.append(d)
        uow.commit()
    return claimed


def _context(uow: UnitOfWork, d: dict[str, Any], cfg: NewsConfig
             ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The item as its channel shows it (the delivery's approved revision), or None when the
    delivery no longer applies (edited since, retracted before it went out...)."""
    with uow:
        item = db.get_item(uow.session, d["item_id"])
        assert item is not None
        if item["status"] not in VALID_FOR[d["action"]] or (
                d["revision"] != item["approved_revision"]):
            uow.session.execute(update(db.deliveries).where(db.deliveries.c.id == d["id"])
                                .values(status="cancelled", next_attempt_at=None))
            uow.commit()
            return None
        rev = db.get_revision(uow.session, item["id"], d["revision"])
        assert rev is not None
        if d["action"] == "publish" and not _is_approved(item, rev):
            uow.session.execute(update(db.deliveries).where(db.deliveries.c.id == d["id"])
                                .values(status="cancelled", next_attempt_at=None,
                                        last_error="not the approved content"))
            uow.commit()
            log.error("publish of %s revision %d cancelled: not the approved content",
                      item["id"], d["revision"], extra={"correlation_id": item["correlation_id"]})
            return None
        shown = {**item, "title": rev["title"], "body": rev["body"], "revision": rev["number"],
                 "notes": db.item_notes(uow.session, item["id"])}
        live = db.live_items(uow.session)
    context = {"live": live, "website_url": f"{cfg.site_url}/{page_name(item['id'])}"}
    return shown, context


def _is_approved(item: dict[str, Any], rev: dict[str, Any]) -> bool:
    """The revision's content is what review approved (the status is VALID_FOR's business)."""
    return item["approved_hash"] is not None and rev["content_hash"] == item["approved_hash"]


def deliver_due(uow: UnitOfWork, cfg: NewsConfig, now: datetime | None = None, limit: int = 50,
                channel_for: Callable[[str], Channel] | None = None) -> dict[str, int]:
    """Attempt every due delivery once; returns counts by outcome."""
    now = now or utcnow()
    channel_for = channel_for or (lambda name: build(cfg.channels[name]))
    counts = {"success": 0, "failure": 0, "gave_up": 0, "cancelled": 0}
    for d in _claim(uow, now, limit):
        found = _context(uow, d, cfg)
        if found is None:
            counts["cancelled"] += 1
            continue
        item, context = found
        try:
            url = channel_for(d["channel"]).send(item, d["action"], context,
                                                 f"news-delivery-{d['id']}")
        except (TransmitError, ValueError) as exc:
            outcome = _failed(uow, d, item, str(exc), cfg, now)
        else:
            outcome = _succeeded(uow, d, item, url, now, cfg)
        metrics.publication_attempts.labels(d["channel"], outcome).inc()
        counts[outcome] += 1
    return counts


def _succeeded(uow: UnitOfWork, d: dict[str, Any], item: dict[str, Any], url: str,
               now: datetime, cfg: NewsConfig) -> str:
    with uow:
        # the item's row first (before the writes whose foreign keys share-lock it)
        current = db.get_item(uow.session, item["id"], for_update=True)
        assert current is not None
        uow.session.execute(update(db.deliveries).where(db.deliveries.c.id == d["id"]).values(
            status="sent", attempts=d["attempts"] + 1, url=url, sent_at=now,
            next_attempt_at=None, last_error=None))
        _record_publication(uow, d, url, now)
        if d["action"] == "publish" and current["status"] in ("approved", "scheduled"):
            _first_publication(uow, current, d, url, now, cfg)
        uow.commit()
    log.info("%s of %s on %s: sent (%s)", d["action"], d["item_id"], d["channel"], url,
             extra={"correlation_id": item["correlation_id"]})
    return "success"


def _record_publication(uow: UnitOfWork, d: dict[str, Any], url: str, now: datetime) -> None:
    """`publications`: one row per channel the item is on, with its latest receipt."""
    where = (db.publications.c.item_id == d["item_id"], db.publications.c.channel == d["channel"])
    done = uow.session.execute(update(db.publications).where(*where).values(
        revision=d["revision"], url=url)).rowcount
    if not done and d["action"] == "publish":
        uow.session.execute(insert(db.publications).values(
            item_id=d["item_id"], revision=d["revision"], channel=d["channel"], url=url,
            published_at=now))


def _first_publication(uow: UnitOfWork, item: dict[str, Any], d: dict[str, Any], url: str,
                       now: datetime, cfg: NewsConfig) -> None:
    rev = db.get_revision(uow.session, item["id"], d["revision"])
    assert rev is not None
    status = domain.check_publish(item["status"], rev["content_hash"], item["approved_hash"])
    column = cfg.column(item["column"])
    valid_until = item["valid_until"]
    if valid_until is not None and valid_until.tzinfo is None:
        valid_until = valid_until.replace(tzinfo=now.tzinfo)
    expires = domain.expires_at(now, column.max_age_days, time_sensitive=item["time_sensitive"],
                                time_sensitive_days=cfg.time_sensitive_days,
                                valid_until=valid_until)
    uow.session.execute(update(db.items).where(db.items.c.id == item["id"]).values(
        status=status, published_at=now, expires_at=expires, updated_at=now))
    pending = sorted({r["channel"] for r in db.rows(uow.session, select(db.deliveries).where(
        db.deliveries.c.item_id == item["id"], db.deliveries.c.action == "publish",
        db.deliveries.c.status == "pending", db.deliveries.c.id != d["id"]))})
    uow.publish(new_event("news.item.published", {
        "item_id": item["id"], "revision": d["revision"], "kind": item["kind"],
        "title": item["title"], "channels": [d["channel"]], "urls": [url],
        "reference_no": item["reference_no"], "ticket_id": item["ticket_id"],
        "pending_channels": pending,
    }, correlation_id=item["correlation_id"], tlp="CLEAR"))
    metrics.items_published.labels(d["channel"]).inc()


def _failed(uow: UnitOfWork, d: dict[str, Any], item: dict[str, Any], error: str,
            cfg: NewsConfig, now: datetime) -> str:
    attempts = d["attempts"] + 1
    status, next_at = domain.after_failure(cfg.retry, attempts, now)
    with uow:
        uow.session.execute(update(db.deliveries).where(db.deliveries.c.id == d["id"]).values(
            status=status, attempts=attempts, next_attempt_at=next_at, last_error=error[:2000]))
        if status == "failed":
            uow.publish(new_event("news.delivery.failed", {
                "item_id": item["id"], "revision": d["revision"], "kind": item["kind"],
                "title": item["title"], "channel": d["channel"], "action": d["action"],
                "attempts": attempts, "error": error[:500], "ticket_id": item["ticket_id"]},
                correlation_id=item["correlation_id"], tlp="AMBER"))
        uow.commit()
    log.warning("%s of %s on %s failed (attempt %d, %s): %s", d["action"], d["item_id"],
                d["channel"], attempts, status, error,
                extra={"correlation_id": item["correlation_id"]})
    return "gave_up" if status == "failed" else "failure"


def channel_status(deliveries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per channel, the latest delivery's state (what GET /items/<id> shows)."""
    out: dict[str, dict[str, Any]] = {}
    for d in deliveries:
        if d["status"] == "cancelled":
            continue
        out[d["channel"]] = {"action": d["action"], "status": d["status"],
                             "attempts": d["attempts"], "last_error": d["last_error"],
                             "next_attempt_at": d["next_attempt_at"], "url": d["url"]}
    return out


def queue_depth(uow: UnitOfWork) -> dict[str, int]:
    with uow:
        return {r["channel"]: r["n"] for r in uow.session.execute(
            select(db.deliveries.c.channel, func.count().label("n"))
            .where(db.deliveries.c.status == "pending")
            .group_by(db.deliveries.c.channel)).mappings()}


def failing_since(uow: UnitOfWork) -> dict[str, datetime]:
    """Per channel, since when it has been failing: the oldest delivery that failed (still
    retrying or given up) and was queued after the channel's last success. A channel whose
    latest deliveries succeed is absent."""
    d = db.deliveries.c
    last_ok = (select(d.channel, func.max(d.sent_at).label("at")).where(d.status == "sent")
               .group_by(d.channel).subquery())
    query = (select(d.channel, func.min(d.created_at))
             .outerjoin(last_ok, last_ok.c.channel == d.channel)
             .where(d.status.in_(("pending", "failed")), d.last_error.is_not(None),
                    or_(last_ok.c.at.is_(None), d.created_at > last_ok.c.at))
             .group_by(d.channel))
    with uow:
        found = uow.session.execute(query).all()
    return {channel: at if at.tzinfo else at.replace(tzinfo=UTC) for channel, at in found}
