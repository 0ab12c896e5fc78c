"""Statements for the liaison desk: `liaison.statement.requested` drafts an authoritative
statement (texts in `messages`) and submits it for expedited review."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

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
        title, body = _draft(p, utcnow().astimezone(domain.OFFICE_TZ).date())
        item_id = items.add(uow, {
            "kind": "statement", "title": title, "body": body,
            "column": messages.STATEMENT_COLUMN, "author": LIAISON_DESK,
            "correlation_id": event.correlation_id, "ticket_id": p["ticket_id"]}, utcnow())
        items.submit(uow, items.load(uow, item_id), "expedited", caused_by=event)
        uow.commit()
    metrics.items_submitted.labels("expedited").inc()
    log.info("statement %s drafted and submitted", item_id,
             extra={"correlation_id": event.correlation_id, "event_id": event.id})
    return item_id


def _draft(p: dict[str, Any], today: date) -> tuple[str, str]:
    """(title, body): from the public facts a v2 request carries (the topic's human name, when
    the discussion was noticed); a v1 request has only its title and the desk's brief."""
    if p.get("topic_name"):
        noticed = p.get("noticed_at")
        noticed_on = (datetime.fromisoformat(noticed).astimezone(domain.OFFICE_TZ).date()
                      if noticed else None)
        return (messages.public_statement_title(p["topic_name"]),
                messages.public_statement_body(topic_name=p["topic_name"],
                                               noticed_on=noticed_on, level=p["level"],
                                               on=today))
    return (messages.statement_title(p["title"]),
            messages.statement_body(title=p["title"], brief=p["brief"], topic=p["topic"],
                                    level=p["level"], on=today))
