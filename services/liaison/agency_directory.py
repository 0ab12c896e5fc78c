"""The agency directory as data: the `agencies` table, seeded from config/agencies.yaml.

`seed` runs at every start of the service (the partner topology provider calls it) and in
`civicpulse partners list`; it is an idempotent upsert: new agencies are inserted, changed ones
updated (`updated_at` moves only then), and agencies no longer in the YAML stay in the table,
inactive (tickets and shares still name them). Sharing groups live in the configuration only
and are served with the directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from civicpulse.db import UnitOfWork
from services.liaison import db
from services.liaison.config import LiaisonConfig

FIELDS = ("name", "kind", "contacts", "active")


@dataclass(frozen=True)
class SeedResult:
    inserted: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deactivated: tuple[str, ...] = ()


def _wanted(cfg: LiaisonConfig) -> dict[str, dict[str, Any]]:
    return {a.code: {"name": a.name, "kind": a.kind, "contacts": [dict(c) for c in a.contacts],
                     "active": a.active} for a in cfg.agencies}


def _insert_new(session: Session, row: dict[str, Any]) -> bool:
    """Insert unless another replica just did (ON CONFLICT DO NOTHING where available)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(db.agencies).on_conflict_do_nothing(
            index_elements=["code"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(db.agencies).on_conflict_do_nothing(index_elements=["code"])
    else:  # pragma: no cover - the service runs on PostgreSQL or SQLite
        stmt = insert(db.agencies)
    return bool(session.execute(stmt.values(**row)).rowcount)


def seed(session: Session, cfg: LiaisonConfig, now: datetime) -> SeedResult:
    """Bring the table in line with the configuration; a second call changes nothing."""
    have = {r["code"]: dict(r) for r in session.execute(select(db.agencies)).mappings()}
    wanted = _wanted(cfg)
    inserted, updated = [], []
    for code, values in wanted.items():
        old = have.get(code)
        if old is None:
            if _insert_new(session, {"code": code, **values, "updated_at": now}):
                inserted.append(code)
        elif any(old[k] != values[k] for k in FIELDS):
            session.execute(update(db.agencies).where(db.agencies.c.code == code)
                            .values(**values, updated_at=now))
            updated.append(code)
    gone = [c for c, r in have.items() if c not in wanted and r["active"]]
    if gone:
        session.execute(update(db.agencies).where(db.agencies.c.code.in_(gone))
                        .values(active=False, updated_at=now))
    return SeedResult(tuple(inserted), tuple(updated), tuple(gone))


def seed_with(uow: UnitOfWork, cfg: LiaisonConfig, now: datetime) -> SeedResult:
    with uow:
        result = seed(uow.session, cfg, now)
        uow.commit()
    return result


# --- reading --------------------------------------------------------------------------------

def _iso(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _row(row: Any, cfg: LiaisonConfig) -> dict[str, Any]:
    code = row["code"]
    return {"code": code, "name": row["name"], "kind": row["kind"],
            "contacts": list(row["contacts"]), "active": bool(row["active"]),
            "groups": [g for g, members in cfg.groups.items() if code in members],
            "updated_at": _iso(row["updated_at"])}


def rows(session: Session, cfg: LiaisonConfig) -> list[dict[str, Any]]:
    found = session.execute(select(db.agencies).order_by(db.agencies.c.code)).mappings()
    return [_row(r, cfg) for r in found]


def directory(uow: UnitOfWork, cfg: LiaisonConfig) -> dict[str, Any]:
    """Every agency in the table (active or not) and the sharing groups."""
    with uow:
        agencies = rows(uow.session, cfg)
    return {"agencies": agencies, "groups": {g: list(m) for g, m in cfg.groups.items()}}


def one(uow: UnitOfWork, cfg: LiaisonConfig, code: str) -> dict[str, Any] | None:
    with uow:
        row = uow.session.execute(select(db.agencies).where(db.agencies.c.code == code)
                                  ).mappings().first()
        return _row(row, cfg) if row else None
