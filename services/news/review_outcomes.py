"""Review's outcomes applied to items: an approval releases (or schedules) the approved
revision; a return sends the item back to draft; a rejection is final. An outcome for a
revision the item has moved past is logged and ignored."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, utcnow
from civicpulse.errors import PermanentError
from services.news import db, domain, items
from services.news.config import NewsConfig
from services.news.domain import Item

log = logging.getLogger(__name__)


class UnknownItem(PermanentError):
    """A review outcome names an item this service never had: it can never apply."""

    reason = "unknown-item"


def _target(uow: UnitOfWork, event: Envelope) -> Item | None:
    """The item a review outcome is about, if that outcome still applies to it."""
    p = event.payload
    item = db.get_item(uow.session, p["item_id"])
    if item is None:
        raise UnknownItem(f"{event.type} for unknown item {p['item_id']}")
    if not domain.review_applies(item.status, item.current_revision, p["revision"]):
        log.warning("%s for %s r%s ignored: item is %s at r%s", event.type, item.id,
                    p["revision"], item.status, item.current_revision,
                    extra={"correlation_id": event.correlation_id, "event_id": event.id})
        return None
    return item


def on_case_approved(uow: UnitOfWork, event: Envelope, cfg: NewsConfig,
                     now: datetime | None = None) -> dict[str, Any] | None:
    """review.case.approved: approve the current revision, then queue it to its column's
    channels now, or schedule it when an embargo holds it (publish_at in the future)."""
    now = now or utcnow()
    with uow:
        if not uow.first_time(event, "news.on_case_approved"):
            return None
        item = _target(uow, event)
        if item is None:
            uow.commit()
            return None
        rev = db.get_revision(uow.session, item.id, item.current_revision)
        assert rev is not None
        try:
            domain.check_approval(item.status, rev.content_hash, event.payload["content_hash"])
        except domain.StaleApproval as exc:
            log.warning("approval of %s ignored: %s", item.id, exc,
                        extra={"correlation_id": event.correlation_id, "event_id": event.id})
            uow.commit()
            return None
        item = items.approve(uow, item, rev, event.payload["reference_no"])
        status, channels = items.release_or_schedule(uow, item, now, event, cfg)
        uow.commit()
    return {"item_id": item.id, "status": status, "channels": channels,
            "reference_no": event.payload["reference_no"]}


def on_case_returned(uow: UnitOfWork, event: Envelope) -> str | None:
    """review.case.returned: the item goes back to draft for revision."""
    return _close_review(uow, event, "return", "news.on_case_returned")


def on_case_rejected(uow: UnitOfWork, event: Envelope) -> str | None:
    """review.case.rejected: the item is rejected for good."""
    return _close_review(uow, event, "reject", "news.on_case_rejected")


def _close_review(uow: UnitOfWork, event: Envelope, action: str, consumer: str) -> str | None:
    with uow:
        if not uow.first_time(event, consumer):
            return None
        item = _target(uow, event)
        status = None
        if item is not None:
            status = domain.transition(item.status, action)
            items.change(uow, item.id, status=status)
        uow.commit()
    return status
