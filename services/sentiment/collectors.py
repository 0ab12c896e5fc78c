"""Collector credentials: every program that feeds mentions in (`POST /mentions`) has a name and
a bearer token (`civicpulse collectors add NAME`); only the token's sha256 is stored, and each
stored mention records the collector that sent it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from civicpulse import credentials
from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from services.sentiment import db


class CollectorExists(ValueError):
    pass


class CollectorNotFound(LookupError):
    pass


def add(uow: UnitOfWork, name: str, now: datetime | None = None) -> str:
    """Create a collector; return its token (shown once)."""
    token = credentials.issue("collector")
    with uow:
        if uow.session.execute(select(db.collectors.c.name).where(
                db.collectors.c.name == name)).first() is not None:
            raise CollectorExists(name)
        uow.session.execute(insert(db.collectors).values(
            name=name, token_sha256=credentials.sha256(token), created_at=now or utcnow()))
        uow.commit()
    return token


def rotate(uow: UnitOfWork, name: str) -> str:
    """A new token; the old one stops working at once. A disabled collector stays disabled."""
    token = credentials.issue("collector")
    with uow:
        _change(uow, name, token_sha256=credentials.sha256(token), rotated_at=utcnow())
        uow.commit()
    return token


def disable(uow: UnitOfWork, name: str) -> None:
    with uow:
        _change(uow, name, disabled_at=utcnow())
        uow.commit()


def _change(uow: UnitOfWork, name: str, **values: Any) -> None:
    done = uow.session.execute(update(db.collectors).where(db.collectors.c.name == name)
                               .values(**values)).rowcount
    if not done:
        raise CollectorNotFound(name)


def listing(uow: UnitOfWork) -> list[dict[str, Any]]:
    c = db.collectors.c
    with uow:
        rows = uow.session.execute(select(c.name, c.created_at, c.rotated_at, c.disabled_at)
                                   .order_by(c.name)).mappings()
        return [dict(r) for r in rows]


def authenticate(uow: UnitOfWork, token: str) -> str | None:
    """The name of the active collector this token belongs to, or None."""
    c = db.collectors.c
    with uow:
        return uow.session.execute(select(c.name).where(
            c.token_sha256 == credentials.sha256(token), c.disabled_at.is_(None))).scalar()
