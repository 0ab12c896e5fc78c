"""The publicity plan: themes by month, the items planned under each, and what is late.

An entry is `done` once its linked item has been published, `late` once its due day has passed
without that, `planned` otherwise (domain.plan_entry_state).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from civicpulse.serialize import jsonable
from services.news import db, domain, items

PLAN_STATES = ("planned", "late", "done")


class ThemeNotFound(LookupError):
    pass


def add_theme(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    domain.month_of(data["month"])
    with uow:
        theme_id = db.add_theme(uow.session, month=data["month"], title=data["title"],
                                description=data.get("description", ""), created_at=utcnow())
        uow.commit()
    return {"id": theme_id, **data}


def add_entry(uow: UnitOfWork, theme_id: int, data: dict[str, Any]) -> dict[str, Any]:
    with uow:
        if not db.theme_exists(uow.session, theme_id):
            raise ThemeNotFound(theme_id)
        if data.get("item_id"):
            items.load(uow, data["item_id"])
        entry_id = db.add_plan_entry(uow.session, theme_id, **data)
        uow.commit()
    return jsonable({"id": entry_id, "theme_id": theme_id, **data})


def link_item(uow: UnitOfWork, entry_id: int, item_id: str) -> None:
    with uow:
        items.load(uow, item_id)
        if not db.link_plan_entry(uow.session, entry_id, item_id):
            raise items.ItemNotFound(f"plan entry {entry_id}")
        uow.commit()


def month_plan(uow: UnitOfWork, month: str, today: date | None = None) -> dict[str, Any]:
    """Themes of `month` with their entries and each entry's state; `late` lists every late
    entry of the month."""
    domain.month_of(month)
    today = today or utcnow().astimezone(domain.OFFICE_TZ).date()
    with uow:
        themes = db.month_themes(uow.session, month)
        entries = db.theme_entries(uow.session, [t["id"] for t in themes])
    for e in entries:
        e["state"] = domain.plan_entry_state(e["due_on"], e["item_status"], today)
    out = []
    for t in themes:
        t = jsonable(t)
        t["entries"] = [jsonable(e) for e in entries if e["theme_id"] == t["id"]]
        out.append(t)
    late = [jsonable(e) for e in entries if e["state"] == "late"]
    return {"month": month, "themes": out, "late": late,
            "counts": {s: sum(e["state"] == s for e in entries) for s in PLAN_STATES}}
