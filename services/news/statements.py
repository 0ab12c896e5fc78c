"""Statements for the liaison desk: `liaison.statement.requested` drafts an authoritative
statement (texts in `messages`) and submits it for expedited review."""

from __future__ import annotations

import logging

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, utcnow
from services.news import domain, items, messages, metrics

log = logging.getLogger(__name__)
LIAISON_DESK = "liaison-desk"   # the author of the drafts (the desk's staff revise them)


def draft_statement(uow: UnitOfWork, event: Envelope) -> str | None:
    """liaison.statement.requested: draft the statement on the request's ticket and submit
    it, expedited. Returns the item's id (None for a duplicate request)."""
    p = event.payload
    with uow:
        if not uow.first_time(event, "news.draft_statement"):
            return None
        today = utcnow().astimezone(domain.OFFICE_TZ).date()
        item_id = items.add(uow, {
            "kind": "statement", "title": messages.statement_title(p["title"]),
            "body": messages.statement_body(title=p["title"], brief=p["brief"],
                                            topic=p["topic"], level=p["level"], on=today),
            "column": messages.STATEMENT_COLUMN, "author": LIAISON_DESK,
            "correlation_id": event.correlation_id, "ticket_id": p["ticket_id"]}, utcnow())
        items.submit(uow, items.load(uow, item_id), "expedited", caused_by=event)
        uow.commit()
    metrics.items_submitted.labels("expedited").inc()
    log.info("statement %s drafted and submitted", item_id,
             extra={"correlation_id": event.correlation_id, "event_id": event.id})
    return item_id
