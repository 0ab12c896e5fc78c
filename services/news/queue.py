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
the approved content is cancelled before anything is sent, and the first publication checks it
again (`domain.check_publish`, which refuses, so nothing is recorded, for any other content).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, utcnow
from civicpulse.serialize import jsonable
from services.news import db, domain, metrics
from services.news.channels import Channel, TransmitError, build
from services.news.channels.formatters import page_name
from services.news.config import NewsConfig
from services.news.domain import Item

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)   # a claimed delivery is retried after this if its worker died


def enqueue(uow: UnitOfWork, item: Item, action: str, cfg: NewsConfig,
            now: datetime) -> list[str]:
    """Queue `action` of the item's approved revision on each enabled channel of its column."""
    queued = []
    for name in cfg.column(item.column).channels:
        spec = cfg.channels[name]
        if not spec.enabled:
            log.info("channel %s not configured: %s of %s not queued", name, action, item.id)
            continue
        db.add_delivery(uow.session, item_id=item.id, revision=item.shown_revision,
                        channel=name, action=action, status="pending", attempts=0,
                        next_attempt_at=now, created_at=now)
        queued.append(name)
    return queued


def cancel_pending(uow: UnitOfWork, item_id: str) -> None:
    """Cancel the item's deliveries not yet sent (it changed: they no longer apply)."""
    db.cancel_pending(uow.session, item_id)


def _claim(uow: UnitOfWork, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Take due deliveries with a lease (a conditional update, so two workers never send the
    same one at the same time)."""
    with uow:
        claimed = [d for d in db.due_deliveries(uow.session, now, limit)
                   if db.lease_delivery(uow.session, d, now + LEASE)]
        uow.commit()
    return claimed


def _cancel(uow: UnitOfWork, d: dict[str, Any], reason: str | None = None) -> None:
    db.update_delivery(uow.session, d["id"], status="cancelled", next_attempt_at=None,
                       **({"last_error": reason} if reason else {}))
    uow.commit()


def _context(uow: UnitOfWork, d: dict[str, Any], cfg: NewsConfig
             ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The item as its channel shows it (the delivery's approved revision), or None when the
    delivery no longer applies (edited since, retracted before it went out...)."""
    with uow:
        item = db.get_item(uow.session, d["item_id"])
        assert item is not None
        if not domain.delivery_applies(d["action"], item.status) or (
                d["revision"] != item.approved_revision):
            _cancel(uow, d)
            return None
        rev = db.get_revision(uow.session, item.id, d["revision"])
        assert rev is not None
        if d["action"] == "publish" and not _is_approved(item, rev):
            _cancel(uow, d, "not the approved content")
            log.error("publish of %s revision %d cancelled: not the approved content",
                      item.id, d["revision"], extra={"correlation_id": item.correlation_id})
            return None
        shown = {**item.as_dict(), "title": rev.title, "body": rev.body,
                 "revision": rev.number, "notes": db.item_notes(uow.session, item.id)}
        live = db.live_items(uow.session, domain.LIVE)
    context = {"live": live, "website_url": f"{cfg.site_url}/{page_name(item.id)}"}
    return shown, context


def _is_approved(item: Item, rev: domain.Revision) -> bool:
    """The revision's content is what review approved (the status is delivery_applies's
    business)."""
    return item.approved_hash is not None and rev.content_hash == item.approved_hash


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
        db.update_delivery(uow.session, d["id"], status="sent", attempts=d["attempts"] + 1,
                           url=url, sent_at=now, next_attempt_at=None, last_error=None)
        db.record_publication(uow.session, d["item_id"], d["channel"], d["revision"], url, now,
                              first=d["action"] == "publish")
        if domain.is_first_publication(d["action"], current.status):
            _first_publication(uow, current, d, url, now, cfg)
        uow.commit()
    log.info("%s of %s on %s: sent (%s)", d["action"], d["item_id"], d["channel"], url,
             extra={"correlation_id": item["correlation_id"]})
    return "success"


def _first_publication(uow: UnitOfWork, item: Item, d: dict[str, Any], url: str,
                       now: datetime, cfg: NewsConfig) -> None:
    """The item turns published with its first channel (once: its row is locked), and
    `news.item.published` says so. Only the approved revision: `check_publish` compares the
    delivered revision's content hash with the approved one and refuses anything else."""
    rev = db.get_revision(uow.session, item.id, d["revision"])
    assert rev is not None
    status = domain.check_publish(item.status, rev.content_hash, item.approved_hash)
    expires = domain.expires_at(now, cfg.column(item.column).max_age_days,
                                time_sensitive=item.time_sensitive,
                                time_sensitive_days=cfg.time_sensitive_days,
                                valid_until=item.valid_until)
    db.update_item(uow.session, item.id, status=status, published_at=now, expires_at=expires,
                   updated_at=now)
    uow.publish(new_event("news.item.published", {
        "item_id": item.id, "revision": d["revision"], "kind": item.kind,
        "title": item.title, "channels": [d["channel"]], "urls": [url],
        "reference_no": item.reference_no, "ticket_id": item.ticket_id,
        "pending_channels": db.pending_channels(uow.session, item.id, "publish", d["id"]),
    }, correlation_id=item.correlation_id, tlp="CLEAR"))
    metrics.items_published.labels(d["channel"]).inc()


def _failed(uow: UnitOfWork, d: dict[str, Any], item: dict[str, Any], error: str,
            cfg: NewsConfig, now: datetime) -> str:
    attempts = d["attempts"] + 1
    status, next_at = domain.after_failure(cfg.retry, attempts, now)
    with uow:
        db.update_delivery(uow.session, d["id"], status=status, attempts=attempts,
                           next_attempt_at=next_at, last_error=error[:2000])
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
        return db.pending_by_channel(uow.session)


def failing_since(uow: UnitOfWork) -> dict[str, datetime]:
    """Per channel, since when it has been failing: the oldest delivery that failed (still
    retrying or given up) and was queued after the channel's last success. A channel whose
    latest deliveries succeed is absent."""
    with uow:
        return db.failing_since(uow.session)


def deliveries(uow: UnitOfWork, show_all: bool = False) -> list[dict[str, Any]]:
    """The queue's deliveries (pending and failed, or all of them), JSON-ready."""
    with uow:
        return [jsonable(d) for d in db.list_deliveries(
            uow.session, None if show_all else ("pending", "failed"))]
