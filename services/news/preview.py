"""How an item will look on each channel of its column, before anything is sent.

The console's review page shows the reviewer the item exactly as each channel's formatter will
render it (the same formatters the publication queue uses), for the revision under review.
Nothing is transmitted and nothing is written.
"""

from __future__ import annotations

from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.serialize import jsonable
from services.news import db, domain, items
from services.news.channels.formatters import FORMATTERS, page_name
from services.news.config import NewsConfig


class RevisionNotFound(LookupError):
    """The item has no revision of that number."""


def preview(uow: UnitOfWork, item_id: str, cfg: NewsConfig,
            revision: int | None = None) -> dict[str, Any]:
    """Per channel of the item's column: the formatter's rendition of `revision` (default: the
    current one) as a `publish` action. Disabled channels are listed with `enabled: false`."""
    with uow:
        item = items.load(uow, item_id)
        number = revision or item.current_revision
        rev = db.get_revision(uow.session, item_id, number)
        if rev is None:
            raise RevisionNotFound(f"{item_id} r{number}")
        shown = {**item.as_dict(), "title": rev.title, "body": rev.body, "revision": number,
                 "notes": db.item_notes(uow.session, item_id)}
        live = db.live_items(uow.session, domain.LIVE)
    context = {"live": live, "website_url": f"{cfg.site_url}/{page_name(item_id)}"}
    column = cfg.column(item.column)
    channels = []
    for name in column.channels:
        spec = cfg.channels[name]
        rendition = FORMATTERS[spec.formatter](name).format(shown, "publish", context)
        channels.append({
            "channel": name, "formatter": spec.formatter, "enabled": spec.enabled,
            "document": jsonable(rendition.document),
            "primary": rendition.files.get(rendition.primary) if rendition.primary else None,
        })
    return {"item_id": item_id, "revision": number, "column": column.name,
            "channels": channels}
