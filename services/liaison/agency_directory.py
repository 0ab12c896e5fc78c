"""The agency directory as data: the `agencies` table, seeded from config/agencies.yaml.

`seed` runs at every start of the service (the partner topology provider calls it) and in
`civicpulse partners list`; it is an idempotent upsert: new agencies are inserted, changed ones
updated (`updated_at` moves only then), and agencies no longer in the YAML stay in the table,
inactive (tickets and shares still name them). Sharing groups live in the configuration only
and are served with the directory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from civicpulse.db import UnitOfWork
from civicpulse.serialize import iso
from services.liaison import db, domain
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


def seed(session: Session, cfg: LiaisonConfig, now: datetime) -> SeedResult:
    """Bring the table in line with the configuration; a second call changes nothing."""
    table = db.Agencies(session)
    have = {e.code: e for e in table.all()}
    wanted = _wanted(cfg)
    inserted, updated = [], []
    for code, values in wanted.items():
        old = have.get(code)
        if old is None:
            if table.insert_new(code, values, now):
                inserted.append(code)
        elif any(getattr(old, k) != values[k] for k in FIELDS):
            table.change(code, values, now)
            updated.append(code)
    gone = [c for c, e in have.items() if c not in wanted and e.active]
    if gone:
        table.deactivate(gone, now)
    return SeedResult(tuple(inserted), tuple(updated), tuple(gone))


def seed_with(uow: UnitOfWork, cfg: LiaisonConfig, now: datetime) -> SeedResult:
    with uow:
        result = seed(uow.session, cfg, now)
        uow.commit()
    return result


# --- reading --------------------------------------------------------------------------------

def _row(entry: domain.DirectoryEntry, cfg: LiaisonConfig) -> dict[str, Any]:
    return {**{k: v for k, v in asdict(entry).items() if k != "updated_at"},
            "groups": [g for g, members in cfg.groups.items() if entry.code in members],
            "updated_at": iso(entry.updated_at)}


def rows(session: Session, cfg: LiaisonConfig) -> list[dict[str, Any]]:
    return [_row(e, cfg) for e in db.Agencies(session).all()]


def directory(uow: UnitOfWork, cfg: LiaisonConfig) -> dict[str, Any]:
    """Every agency in the table (active or not) and the sharing groups."""
    with uow:
        agencies = rows(uow.session, cfg)
    return {"agencies": agencies, "groups": {g: list(m) for g, m in cfg.groups.items()}}


def one(uow: UnitOfWork, cfg: LiaisonConfig, code: str) -> dict[str, Any] | None:
    with uow:
        entry = db.Agencies(uow.session).get(code)
        return _row(entry, cfg) if entry else None
