"""The content item: its state changes and the events they publish.

Everything that changes an item goes through this module's public functions: drafts and
revisions, submission to review, approval and release (or scheduling behind an embargo),
corrections and retractions, and the views of an item. The use cases beside it — `statements`
(drafts for the liaison desk), `review_outcomes`, `queue` (the publication queue), `sweep`
(expiry), `plan`, `interaction` — import it; it reaches the tables only through `db`.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, new_id, utcnow
from civicpulse.serialize import iso, jsonable
from services.news import db, domain, metrics, queue
from services.news.config import NewsConfig
from services.news.domain import Item


class ItemNotFound(LookupError):
    """No content item has that id."""


# --- reading -------------------------------------------------------------------------------------

def load(uow: UnitOfWork, item_id: str, *, for_update: bool = False) -> Item:
    """The item (inside `uow`'s transaction), or ItemNotFound."""
    item = db.get_item(uow.session, item_id, for_update=for_update)
    if item is None:
        raise ItemNotFound(item_id)
    return item


def get_item(uow: UnitOfWork, item_id: str) -> dict[str, Any]:
    """The item with its revisions, history of notes, and its publication status per channel
    (`deliveries`: every queued action with attempts and last error; `publications`: where it
    is live, one row per channel)."""
    with uow:
        item = jsonable(load(uow, item_id).as_dict())
        s = uow.session
        item["revisions"] = [jsonable(asdict(r)) for r in db.item_revisions(s, item_id)]
        item["publications"] = [jsonable(p) for p in db.item_publications(s, item_id)]
        item["deliveries"] = [jsonable(d) for d in db.item_deliveries(s, item_id)]
        item["notes"] = [jsonable(n) for n in db.item_notes(s, item_id)]
        item["channels"] = queue.channel_status(item["deliveries"])
        item["stats"] = [jsonable(r) for r in db.item_stats(s, item_id)]
        return item


def list_items(uow: UnitOfWork, filters: dict[str, str | None]) -> list[dict[str, Any]]:
    with uow:
        return [jsonable(i.as_dict()) for i in db.find_items(uow.session, filters)]


def revision_authors(uow: UnitOfWork, item: Item) -> list[dict[str, Any]]:
    """Who wrote each revision of the item (the item's author for revisions recorded before
    authors were)."""
    return [{"revision": r.number, "author": r.author or item.author}
            for r in db.item_revisions(uow.session, item.id)]


# --- state changes (inside the caller's unit of work) -------------------------------------------

def add(uow: UnitOfWork, data: dict[str, Any], now: datetime) -> str:
    """A new draft with its first revision; returns its id."""
    item_id = f"itm-{new_id()[:12]}"
    db.add_item(uow.session, id=item_id, kind=data["kind"], title=data["title"],
                body=data["body"], column=data.get("column"), author=data["author"],
                status="draft", current_revision=1,
                correlation_id=data.get("correlation_id") or item_id,
                ticket_id=data.get("ticket_id"), publish_at=data.get("publish_at"),
                time_sensitive=bool(data.get("time_sensitive")),
                valid_until=data.get("valid_until"), created_at=now, updated_at=now)
    _add_revision(uow, item_id, 1, data["title"], data["body"], data["author"], now)
    return item_id


def _add_revision(uow: UnitOfWork, item_id: str, number: int, title: str, body: str,
                  author: str, now: datetime) -> None:
    db.add_revision(uow.session, domain.Revision(
        item_id=item_id, number=number, title=title, body=body, author=author,
        content_hash=domain.content_hash(title, body), created_at=now))


def change(uow: UnitOfWork, item_id: str, **values: Any) -> None:
    """Write the item's new state (and when it changed)."""
    db.update_item(uow.session, item_id, updated_at=utcnow(), **values)


def submit(uow: UnitOfWork, item: Item, workflow: str, caused_by: Envelope | None = None
           ) -> None:
    """Send the item's current revision to review: `in_review`, `news.item.submitted`."""
    status = domain.check_submit(item.status, item.current_revision,
                                 item.last_submitted_revision)
    rev = db.get_revision(uow.session, item.id, item.current_revision)
    assert rev is not None
    change(uow, item.id, status=status, last_submitted_revision=rev.number)
    uow.publish(new_event("news.item.submitted", {
        "item_id": item.id, "revision": rev.number, "kind": item.kind, "title": rev.title,
        "body": rev.body, "author": item.author, "content_hash": rev.content_hash,
        "workflow": workflow, "ticket_id": item.ticket_id,
        "revision_authors": revision_authors(uow, item),
    }, correlation_id=item.correlation_id, caused_by=caused_by, tlp="AMBER"))


def approve(uow: UnitOfWork, item: Item, rev: domain.Revision, reference_no: str) -> Item:
    """Record review's approval of `rev` (the approved hash is what alone may be published)."""
    change(uow, item.id, status=domain.transition(item.status, "approve"),
           approved_hash=rev.content_hash,
           approved_revision=rev.number, reference_no=reference_no)
    return load(uow, item.id)


def release_or_schedule(uow: UnitOfWork, item: Item, now: datetime, cause: Envelope | None,
                        cfg: NewsConfig) -> tuple[str, list[str]]:
    """Approved content goes into the publication queue now, or is `scheduled` (with
    `news.item.scheduled`) while an embargo holds it."""
    status = domain.after_approval(item.publish_at, now)
    if status == "scheduled":
        change(uow, item.id, status="scheduled")
        uow.publish(new_event("news.item.scheduled", {
            "item_id": item.id, "revision": item.approved_revision, "kind": item.kind,
            "title": item.title, "publish_at": iso(item.publish_at),
            "reference_no": item.reference_no},
            correlation_id=item.correlation_id, caused_by=cause, tlp="AMBER"))
        return status, []
    change(uow, item.id, status="approved")
    return status, queue.enqueue(uow, item, "publish", cfg, now)


# --- use cases -----------------------------------------------------------------------------------

def create_item(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    """A new draft with its first revision."""
    with uow:
        item_id = add(uow, data, utcnow())
        uow.commit()
    return get_item(uow, item_id)


def revise_item(uow: UnitOfWork, item_id: str, title: str, body: str,
                author: str) -> dict[str, Any]:
    """Every edit is a new revision, recorded with its author. A draft stays a draft; an
    approved or scheduled item goes back to review (its queued deliveries are cancelled); an
    item in review is locked."""
    with uow:
        item = load(uow, item_id)
        target = domain.check_revise(item.status)
        number = item.current_revision + 1
        _add_revision(uow, item_id, number, title, body, author, utcnow())
        change(uow, item_id, title=title, body=body, current_revision=number,
               approved_hash=None, approved_revision=None, status="draft")
        if target == "in_review":
            queue.cancel_pending(uow, item_id)
            submit(uow, load(uow, item_id), "default")
        uow.commit()
    if target == "in_review":
        metrics.items_submitted.labels("default").inc()
    return get_item(uow, item_id)


def submit_item(uow: UnitOfWork, item_id: str, workflow: str = "default") -> dict[str, Any]:
    """Send the current revision to review (draft → in_review)."""
    with uow:
        submit(uow, load(uow, item_id), workflow)
        uow.commit()
    metrics.items_submitted.labels(workflow).inc()
    return get_item(uow, item_id)


def set_embargo(uow: UnitOfWork, item_id: str, publish_at: datetime | None,
                cfg: NewsConfig, now: datetime | None = None) -> dict[str, Any]:
    """Set (or lift, with None) the time before which the item is not published. On an approved
    or scheduled item it takes effect at once; the review is not repeated (content unchanged)."""
    now = now or utcnow()
    with uow:
        item = load(uow, item_id)
        at_once = domain.check_embargo(item.status)
        change(uow, item_id, publish_at=publish_at)
        if at_once:
            queue.cancel_pending(uow, item_id)
            release_or_schedule(uow, replace(item, publish_at=publish_at), now, None, cfg)
        uow.commit()
    return get_item(uow, item_id)


def release_due(uow: UnitOfWork, cfg: NewsConfig, now: datetime | None = None) -> list[str]:
    """@timer: scheduled items whose embargo has passed go into the publication queue."""
    now = now or utcnow()
    released = []
    with uow:
        for item in db.scheduled_due(uow.session, now):
            change(uow, item.id, status="approved")
            queue.enqueue(uow, item, "publish", cfg, now)
            released.append(item.id)
        uow.commit()
    return released


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
        status = domain.transition(item.status, action)
        db.add_note(uow.session, item_id, kind, note, by, now)
        change(uow, item_id, status=status)
        queue.cancel_pending(uow, item_id)
        queue.enqueue(uow, item, action, cfg, now)
        uow.publish(new_event(f"news.item.{action}ed", {
            "item_id": item_id, "revision": item.shown_revision, "kind": item.kind,
            "title": item.title, "note": note, "by": by},
            correlation_id=item.correlation_id, tlp="CLEAR"))
        uow.commit()
    return get_item(uow, item_id)
