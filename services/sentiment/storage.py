"""The service's database for command-line tools (import, reports): migrated, one engine."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory
from civicpulse.settings import for_service

MIGRATIONS = Path(__file__).parent / "migrations"


@cache
def _sessions(url: str):  # noqa: ANN202 - a sessionmaker
    migrate(url, MIGRATIONS)
    return session_factory(make_engine(url))


def open_uow(database_url: str | None = None) -> UnitOfWork:
    url = database_url or for_service("sentiment").database_url
    return UnitOfWork(_sessions(url), "sentiment")
