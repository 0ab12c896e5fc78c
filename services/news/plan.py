"""The publicity plan: themes by month, the items planned under each, and what is late.

An entry is `done` once its linked item has been published, `late` once its due day has passed
without that, `planned` otherwise (domain.plan_entry_state).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from services.news import db, domain
from services.news.handlers import OFFICE_TZ, ItemNotFound, jsonable, load


class ThemeNotFound(LookupError):
    pass


def add_theme(uow: UnitOfWork, data: dict[str, Any]) -> dict[str, Any]:
    domain.month_of(data["month"])
    with uow:
        theme_id = uow.session.execute(insert(db.plan_themes).values(
            month=data["month"], title=data["title"], description=data.get("description", ""),
            created_at=utcnow())).inserted_primary_key[0]
        uow.commit()
    return {"id": theme_id, **data}


def add_entry(uow: UnitOfWork, theme_id: int, data: dict[str, Any]) -> dict[str, Any]:
    with uow:
        if not db.rows(uow.session, select(db.plan_themes).where(db.plan_themes.c.id == theme_id)):
            raise ThemeNotFound(theme_id)
        if data.get("item_id"):
            load(uow, data["item_id"])
        entry_id = uow.session.execute(insert(db.plan_entries).values(
            theme_id=theme_id, **data)).inserted_primary_key[0]
        uow.commit()
    return jsonable({"id": entry_id, "theme_id": theme_id, **data})


def link_item(uow: UnitOfWork, entry_id: int, item_id: str) -> None:
    with uow:
        load(uow, item_id)
        if not uow.session.execute(update(db.plan_entries).where(
                db.plan_entries.c.id == entry_id).values(item_id=item_id)).rowcount:
            raise ItemNotFound(f"plan entry {entry_id}")
        uow.commit()


def month_plan(uow: UnitOfWork, month: str, today: date | None = None) -> dict[str, Any]:
    """Themes of `month` with their entries and each entry's state; `late` lists every late
    entry of the month."""
    domain.month_of(month)
    today = today or utcnow().astimezone(OFFICE_TZ).date()
    with uow:
        themes = db.rows(uow.session, select(db.plan_themes).where(
            db.plan_themes.c.month == month).order_by(db.plan_themes.c.id))
        entries = db.rows(uow.session, select(db.plan_entries, db.items.c.status.label(
            "item_status")).outerjoin(db.items, db.items.c.id == db.plan_entries.c.item_id)
            .where(db.plan_entries.c.theme_id.in_([t["id"] for t in themes]))
            .order_by(db.plan_entries.c.due_on, db.plan_entries.c.id))
    for e in entries:
        e["state"] = domain.plan_entry_state(e["due_on"], e["item_status"], today)
    out = []
    for t in themes:
        t = jsonable(t)
        t["entries"] = [jsonable(e) for e in entries if e["theme_id"] == t["id"]]
        out.append(t)
    late = [jsonable(e) for e in entries if e["state"] == "late"]
    return {"month": month, "themes": out, "late": late,
            "counts": {s: sum(e["state"] == s for e in entries)
                       for s in ("planned", "late", "done")}}
