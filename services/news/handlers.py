"""News use cases: drafts and revisions, submission to review, reacting to review outcomes,
embargoes, corrections and retractions. The publication queue is in `queue.py`, the expiry
sweep in `sweep.py`, the publicity plan in `plan.py`, comments and statistics in
`interaction.py`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, new_id, utcnow
from civicpulse.errors import PermanentError
from services.news import db, domain, metrics, queue
from services.news.config import NewsConfig

log = logging.getLogger(__name__)
OFFICE_TZ = ZoneInfo("Asia/Shanghai")
LIAISON_DESK = "liaison-desk"
STATEMENT_COLUMN = "权威发布"


class ItemNotFound(LookupError):
    """No content item has that id."""


class UnknownItem(PermanentError):
    """A review outcome names an item this service never had: it can never apply."""

    reason = "unknown-item"


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes, which were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return aware(value).isoformat()  # type: ignore[union-attr]


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) if isinstance(v, datetime) else
            (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def _insert_item(uow: UnitOfWork, data: dict[str, Any], now: datetime) -> str:
    item_id = f"itm-{new_id()[:12]}"
    uow.session.execute(insert(db.items).values(
        id=item_id, kind=data["kind"], title=data["title"], body=data["body"],
        column=data.get("column"), author=data["author"], status="draft", current_revision=1,
        correlation_id=data.get("correlation_id") or item_id, ticket_id=data.get("ticket_id"),
        publish_at=data.get("publish_at"), time_sensitive=bool(data.get("time_sensitive")),
        valid_until=data.get("valid_until"), created_at=now, updated_at=now))
    _insert_revision(uow, item_id, 1, data["title"], data["body"], data["author"], now)
    return item_id


def _insert_revision(uow: UnitOfWork, item_id: str, number: int, title: str, body: str,
                     author: str, now: datetime) -> None:
    uow.session.execute(insert(db.revisions).values(
        item_id=item_id, number=number, title=title, body=body, author=author,
        content_hash=domain.content_hash(title, body), created_at=now))


def load(uow: UnitOfWork, item_id: str) -> dict[str, Any]:
    item = db.get_item(uow.session, item_id)
    if item is None:
        raise ItemNotFound(item_id)
    return item


def set_item(uow: UnitOfWork, item_id: str, **values: Any) -> None:
    uow.session.execute(update(db.items).where(db.items.c.id == item_id)
                        .values(updated_at=utcnow(), **values))


def create_item(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    """A new draft with its first revision."""
    with uow:
        item_id = _insert_item(uow, data, utcnow())
        uow.commit()
    return get_item(uow, item_id)


def revise_item(uow: UnitOfWork, item_id: str, title: str, body: str,
                author: str) -> dict[str, Any]:
    """Every edit is a new revision, recorded with its author. A draft stays a draft; an
    approved or scheduled item goes back to review (its queued deliveries are cancelled); an
    item in review is locked."""
    with uow:
        item = load(uow, item_id)
        target = domain.check_revise(item["status"])
        number = item["current_revision"] + 1
        _insert_revision(uow, item_id, number, title, body, author, utcnow())
        set_item(uow, item_id, title=title, body=body, current_revision=number,
                 approved_hash=None, approved_revision=None, status="draft")
        if target == "in_review":
            queue.cancel_pending(uow, item_id)
            _submit(uow, load(uow, item_id), "default")
        uow.commit()
    if target == "in_review":
        metrics.items_submitted.labels("default").inc()
    return get_item(uow, item_id)


def _submit(uow: UnitOfWork, item: dict[str, Any], workflow: str,
            caused_by: Envelope | None = None) -> None:
    domain.check_submit(item["status"], item["current_revision"],
                        item["last_submitted_revision"])
    rev = db.get_revision(uow.session, item["id"], item["current_revision"])
    assert rev is not None
    set_item(uow, item["id"], status="in_review", last_submitted_revision=rev["number"])
    uow.publish(new_event("news.item.submitted", {
        "item_id": item["id"], "revision": rev["number"], "kind": item["kind"],
        "title": rev["title"], "body": rev["body"], "author": item["author"],
        "content_hash": rev["content_hash"], "workflow": workflow,
        "ticket_id": item["ticket_id"],
        "revision_authors": revision_authors(uow, item),
    }, correlation_id=item["correlation_id"], caused_by=caused_by, tlp="AMBER"))


def revision_authors(uow: UnitOfWork, item: dict[str, Any]) -> list[dict[str, Any]]:
    """Who wrote each revision of the item (the item's author for revisions recorded before
    authors were)."""
    return [{"revision": r["number"], "author": r["author"] or item["author"]}
            for r in db.item_revisions(uow.session, item["id"])]


def submit_item(uow: UnitOfWork, item_id: str, workflow: str = "default") -> dict[str, Any]:
    """Send the current revision to review (draft → in_review)."""
    with uow:
        _submit(uow, load(uow, item_id), workflow)
        uow.commit()
    metrics.items_submitted.labels(workflow).inc()
    return get_item(uow, item_id)


def set_embargo(uow: UnitOfWork, item_id: str, publish_at: datetime | None,
                now: datetime | None = None) -> dict[str, Any]:
    """Set (or lift, with None) the time before which the item is not published. On an approved
    or scheduled item it takes effect at once; the review is not repeated (content unchanged)."""
    now = now or utcnow()
    with uow:
        item = load(uow, item_id)
        if item["status"] not in ("draft", "in_review", "approved", "scheduled"):
            raise domain.InvalidTransition(item["status"], "schedule")
        set_item(uow, item_id, publish_at=publish_at)
        if item["status"] in ("approved", "scheduled"):
            item["publish_at"] = publish_at
            queue.cancel_pending(uow, item_id)
            _release_or_schedule(uow, item, now, None)
        uow.commit()
    return get_item(uow, item_id)


def draft_statement(uow: UnitOfWork, event: Envelope) -> str | None:
    """liaison.statement.requested: draft the statement and submit it, expedited."""
    p = event.payload
    with uow:
        if not uow.first_time(event, "news.draft_statement"):
            return None
        title = domain.statement_title(p["title"])
        body = domain.statement_body(title=p["title"], brief=p["brief"], topic=p["topic"],
                                     level=p["level"], on=utcnow().astimezone(OFFICE_TZ).date())
        item_id = _insert_item(uow, {
            "kind": "statement", "title": title, "body": body, "column": STATEMENT_COLUMN,
            "author": LIAISON_DESK, "correlation_id": event.correlation_id,
            "ticket_id": p["ticket_id"]}, utcnow())
        _submit(uow, load(uow, item_id), "expedited", caused_by=event)
        uow.commit()
    metrics.items_submitted.labels("expedited").inc()
    log.info("statement %s drafted and submitted", item_id,
             extra={"correlation_id": event.correlation_id, "event_id": event.id})
    return item_id


def _review_target(uow: UnitOfWork, event: Envelope) -> dict[str, Any] | None:
    """The item a review outcome is about, if that outcome still applies to it."""
    item = db.get_item(uow.session, event.payload["item_id"])
    if item is None:
        raise UnknownItem(f"{event.type} for unknown item {event.payload['item_id']}")
    if item["status"] != "in_review" or item["current_revision"] != event.payload["revision"]:
        log.warning("%s for %s r%s ignored: item is %s at r%s", event.type, item["id"],
                    event.payload["revision"], item["status"], item["current_revision"],
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
        item = _review_target(uow, event)
        if item is None:
            uow.commit()
            return None
        rev = db.get_revision(uow.session, item["id"], item["current_revision"])
        assert rev is not None
        try:
            domain.check_approval(item["status"], rev["content_hash"],
                                  event.payload["content_hash"])
        except domain.StaleApproval as exc:
            log.warning("approval of %s ignored: %s", item["id"], exc,
                        extra={"correlation_id": event.correlation_id, "event_id": event.id})
            uow.commit()
            return None
        set_item(uow, item["id"], status="approved", approved_hash=rev["content_hash"],
                 approved_revision=rev["number"], reference_no=event.payload["reference_no"])
        item = load(uow, item["id"])
        status, channels = _release_or_schedule(uow, item, now, event, cfg)
        uow.commit()
    return {"item_id": item["id"], "status": status, "channels": channels,
            "reference_no": event.payload["reference_no"]}


def _release_or_schedule(uow: UnitOfWork, item: dict[str, Any], now: datetime,
                         cause: Envelope | None, cfg: NewsConfig | None = None
                         ) -> tuple[str, list[str]]:
    from services.news import config

    cfg = cfg or config.load()
    publish_at = aware(item["publish_at"])
    status = domain.after_approval(publish_at, now)
    if status == "scheduled":
        set_item(uow, item["id"], status="scheduled")
        uow.publish(new_event("news.item.scheduled", {
            "item_id": item["id"], "revision": item["approved_revision"],
            "kind": item["kind"], "title": item["title"], "publish_at": _iso(publish_at),
            "reference_no": item["reference_no"]},
            correlation_id=item["correlation_id"], caused_by=cause, tlp="AMBER"))
        return status, []
    set_item(uow, item["id"], status="approved")
    return status, queue.enqueue(uow, item, "publish", cfg, now)


def release_due(uow: UnitOfWork, cfg: NewsConfig, now: datetime | None = None) -> list[str]:
    """@timer: scheduled items whose embargo has passed go into the publication queue."""
    now = now or utcnow()
    released = []
    with uow:
        for item in db.rows(uow.session, db.items.select().where(
                db.items.c.status == "scheduled", db.items.c.publish_at <= now)):
            set_item(uow, item["id"], status="approved")
            queue.enqueue(uow, item, "publish", cfg, now)
            released.append(item["id"])
        uow.commit()
    return released


def _note(uow: UnitOfWork, item_id: str, kind: str, note: str, by: str, now: datetime) -> None:
    uow.session.execute(insert(db.notes).values(item_id=item_id, kind=kind, note=note, by=by,
                                                at=now))


def correct_item(uow: UnitOfWork, item_id: str, note: str, by: str, cfg: NewsConfig,
                 now: datetime | None = None) -> dict[str, Any]:
    """A correction note on a live item: kept in its history, shown on every channel."""
    return _amend(uow, item_id, "correct", "correction", note, by, cfg, now or utcnow())


def retract_item(uow: UnitOfWork, item_id: str, note: str, by: str, cfg: NewsConfig,
                 now: datetime | None = None) -> dict[str, Any]:
    """Take a live item down with a note; its page says so, the history keeps everything."""
    return _amend(uow, item_id, "retract", "retraction", note, by, cfg, now or utcnow())


def _amend(uow: UnitOfWork, item_id: str, action: str, kind: str, note: str, by: str,
           cfg: NewsConfig, now: datetime) -> dict[str, Any]:
    with uow:
        item = load(uow, item_id)
        status = domain.transition(item["status"], action)
        _note(uow, item_id, kind, note, by, now)
        set_item(uow, item_id, status=status)
        queue.cancel_pending(uow, item_id)
        queue.enqueue(uow, item, action, cfg, now)
        uow.publish(new_event(f"news.item.{action}ed", {
            "item_id": item_id, "revision": item["approved_revision"] or item["current_revision"],
            "kind": item["kind"], "title": item["title"], "note": note, "by": by},
            correlation_id=item["correlation_id"], tlp="CLEAR"))
        uow.commit()
    return get_item(uow, item_id)


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
        item = _review_target(uow, event)
        status = None
        if item is not None:
            status = domain.transition(item["status"], action)
            set_item(uow, item["id"], status=status)
        uow.commit()
    return status


def list_items(uow: UnitOfWork, filters: dict[str, str | None]) -> list[dict[str, Any]]:
    with uow:
        return [jsonable(i) for i in db.find_items(uow.session, filters)]


def get_item(uow: UnitOfWork, item_id: str) -> dict[str, Any]:
    """The item with its revisions, history of notes, and its publication status per channel
    (`deliveries`: every queued action with attempts and last error; `publications`: where it
    is live, one row per channel)."""
    with uow:
        item = jsonable(load(uow, item_id))
        s = uow.session
        item["revisions"] = [jsonable(r) for r in db.item_revisions(s, item_id)]
        item["publications"] = [jsonable(p) for p in db.item_publications(s, item_id)]
        item["deliveries"] = [jsonable(d) for d in db.item_deliveries(s, item_id)]
        item["notes"] = [jsonable(n) for n in db.item_notes(s, item_id)]
        item["channels"] = queue.channel_status(item["deliveries"])
        item["stats"] = [jsonable(r) for r in db.rows(s, db.channel_stats.select().where(
            db.channel_stats.c.item_id == item_id))]
        return item
