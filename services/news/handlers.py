"""News use cases: drafts and revisions, submission to review, reacting to review outcomes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, new_id, utcnow
from civicpulse.errors import PermanentError
from services.news import db, domain, metrics
from services.news.channels import WebsiteChannel

log = logging.getLogger(__name__)
OFFICE_TZ = ZoneInfo("Asia/Shanghai")
LIAISON_DESK = "liaison-desk"


class ItemNotFound(LookupError):
    """No content item has that id."""


class UnknownItem(PermanentError):
    """A review outcome names an item this service never had: it can never apply."""

    reason = "unknown-item"


def _iso(value: datetime) -> str:
    """RFC 3339; SQLite hands back naive datetimes, which were stored as UTC."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


def _insert_item(uow: UnitOfWork, data: dict[str, Any], now: datetime) -> str:
    item_id = f"itm-{new_id()[:12]}"
    uow.session.execute(insert(db.items).values(
        id=item_id, kind=data["kind"], title=data["title"], body=data["body"],
        column=data.get("column"), author=data["author"], status="draft", current_revision=1,
        correlation_id=data.get("correlation_id") or item_id, ticket_id=data.get("ticket_id"),
        created_at=now, updated_at=now))
    _insert_revision(uow, item_id, 1, data["title"], data["body"], now)
    return item_id


def _insert_revision(uow: UnitOfWork, item_id: str, number: int, title: str, body: str,
                     now: datetime) -> None:
    uow.session.execute(insert(db.revisions).values(
        item_id=item_id, number=number, title=title, body=body,
        content_hash=domain.content_hash(title, body), created_at=now))


def _load(uow: UnitOfWork, item_id: str) -> dict[str, Any]:
    item = db.get_item(uow.session, item_id)
    if item is None:
        raise ItemNotFound(item_id)
    return item


def _set(uow: UnitOfWork, item_id: str, **values: Any) -> None:
    uow.session.execute(update(db.items).where(db.items.c.id == item_id)
                        .values(updated_at=utcnow(), **values))


def create_item(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    """A new draft with its first revision."""
    with uow:
        item_id = _insert_item(uow, data, utcnow())
        uow.commit()
    return get_item(uow, item_id)


def revise_item(uow: UnitOfWork, item_id: str, title: str, body: str) -> dict[str, Any]:
    """A new revision of a draft; it becomes the current one."""
    with uow:
        item = _load(uow, item_id)
        domain.check_revise(item["status"])
        number = item["current_revision"] + 1
        _insert_revision(uow, item_id, number, title, body, utcnow())
        _set(uow, item_id, title=title, body=body, current_revision=number, approved_hash=None)
        uow.commit()
    return get_item(uow, item_id)


def _submit(uow: UnitOfWork, item: dict[str, Any], workflow: str,
            caused_by: Envelope | None = None) -> None:
    domain.check_submit(item["status"], item["current_revision"],
                        item["last_submitted_revision"])
    rev = db.get_revision(uow.session, item["id"], item["current_revision"])
    assert rev is not None
    _set(uow, item["id"], status="in_review", last_submitted_revision=rev["number"])
    uow.publish(new_event("news.item.submitted", {
        "item_id": item["id"], "revision": rev["number"], "kind": item["kind"],
        "title": rev["title"], "body": rev["body"], "author": item["author"],
        "content_hash": rev["content_hash"], "workflow": workflow,
        "ticket_id": item["ticket_id"],
    }, correlation_id=item["correlation_id"], caused_by=caused_by, tlp="AMBER"))


def submit_item(uow: UnitOfWork, item_id: str, workflow: str = "default") -> dict[str, Any]:
    """Send the current revision to review (draft → in_review)."""
    with uow:
        _submit(uow, _load(uow, item_id), workflow)
        uow.commit()
    metrics.items_submitted.labels(workflow).inc()
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
            "kind": "statement", "title": title, "body": body, "column": "权威发布",
            "author": LIAISON_DESK, "correlation_id": event.correlation_id,
            "ticket_id": p["ticket_id"]}, utcnow())
        _submit(uow, _load(uow, item_id), "expedited", caused_by=event)
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


def on_case_approved(uow: UnitOfWork, event: Envelope, channel: WebsiteChannel
                     ) -> dict[str, Any] | None:
    """review.case.approved: approve the current revision and publish it, exactly once."""
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
        result = _publish(uow, item, rev, event, channel)
        uow.commit()
    metrics.items_published.labels(channel.name).inc()
    return result


def _publish(uow: UnitOfWork, item: dict[str, Any], rev: dict[str, Any], event: Envelope,
             channel: WebsiteChannel) -> dict[str, Any]:
    now = utcnow()
    domain.check_publish("approved", rev["content_hash"], event.payload["content_hash"])
    reference_no = event.payload["reference_no"]
    _set(uow, item["id"], status="published", approved_hash=rev["content_hash"],
         reference_no=reference_no, published_at=now)
    url = channel.url_for(item["id"])
    try:
        with uow.session.begin_nested():
            uow.session.execute(insert(db.publications).values(
                item_id=item["id"], revision=rev["number"], channel=channel.name, url=url,
                published_at=now))
    except IntegrityError as exc:
        raise domain.InvalidTransition("published", "publish") from exc
    current = db.get_item(uow.session, item["id"])
    assert current is not None
    channel.publish(current, db.published_items(uow.session))
    uow.publish(new_event("news.item.published", {
        "item_id": item["id"], "revision": rev["number"], "kind": item["kind"],
        "title": rev["title"], "channels": [channel.name], "urls": [url],
        "reference_no": reference_no, "ticket_id": item["ticket_id"],
    }, correlation_id=event.correlation_id, caused_by=event, tlp="CLEAR"))
    log.info("item %s published at %s", item["id"], url,
             extra={"correlation_id": event.correlation_id, "event_id": event.id})
    return {"item_id": item["id"], "url": url, "reference_no": reference_no}


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
            _set(uow, item["id"], status=status)
        uow.commit()
    return status


def list_items(uow: UnitOfWork, filters: dict[str, str | None]) -> list[dict[str, Any]]:
    with uow:
        return [_jsonable(i) for i in db.find_items(uow.session, filters)]


def get_item(uow: UnitOfWork, item_id: str) -> dict[str, Any]:
    """The item with its revisions and where it was published."""
    with uow:
        item = _jsonable(_load(uow, item_id))
        item["revisions"] = [_jsonable(r) for r in db.item_revisions(uow.session, item_id)]
        item["publications"] = [_jsonable(p)
                                for p in db.item_publications(uow.session, item_id)]
        return item
