"""Database helpers: engines, Alembic migrations on start, and the unit of work.

Each service owns one database (SQLite file under var/ by default, PostgreSQL by URL). The
outbox and inbox tables live in every service's own database so that a state change, the events
it causes and the ids of events it consumed are committed in one transaction.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, event, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from civicpulse import inbox, outbox
from civicpulse.envelope import Envelope
from civicpulse.observability import platform_metrics

log = logging.getLogger(__name__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    use_green_waits()
    # A bounded connect: while the database is down a consumer fails fast and its message is
    # retried, instead of a worker hanging on connect.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         connect_args={"connect_timeout": 5}, **kwargs)


def use_green_waits() -> bool:
    """Under eventlet, make psycopg wait for the server through (green) select.

    psycopg's default C wait function blocks in the kernel without yielding to eventlet: one
    slow query or row-lock wait would freeze every green thread of the process (HTTP, timers,
    consumers, AMQP heartbeats). Its select-based wait function yields. A process that is not
    monkey-patched keeps the C function. Returns whether the green waits are on.
    """
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is None or not patcher.is_monkey_patched("select"):
        return False
    from psycopg import waiting

    waiting.wait = waiting.wait_select
    return True


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def insert_once(session: Session, table: Table, **values: Any) -> bool:
    """Insert a row unless a unique key says it is there already (another worker, an earlier
    delivery of the same event): True when this call inserted it. A savepoint keeps the
    surrounding transaction usable after the refusal."""
    try:
        with session.begin_nested():
            session.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def rows(session: Session, query: Any) -> list[dict[str, Any]]:
    """A query's rows as plain dicts."""
    return [dict(r) for r in session.execute(query).mappings().all()]


def migrate(url: str, migrations_dir: Path) -> None:
    """Apply the service's Alembic history up to head."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


class UnitOfWork:
    """One transaction: domain changes, outbox events and inbox marks commit together.

    Use as a context manager; without `commit()` everything rolls back. After a commit the
    `on_commit` callback (the relay's wake-up) runs if events were recorded.
    """

    def __init__(self, session_factory: Callable[[], Session], service: str,
                 on_commit: Callable[[], None] | None = None) -> None:
        self._session_factory = session_factory
        self.service = service
        self._on_commit = on_commit
        self.session: Session
        self._recorded = 0

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self._recorded = 0
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
        if self._recorded and self._on_commit:
            self._on_commit()
        self._recorded = 0

    def rollback(self) -> None:
        self.session.rollback()

    def publish(self, event: Envelope, *, exchange: str | None = None,
                routing_key: str | None = None) -> None:
        """Record an event in the outbox, to be published after this transaction commits."""
        outbox.record(self.session, event, exchange=exchange, routing_key=routing_key)
        self._recorded += 1

    def first_time(self, event: Envelope, consumer: str) -> bool:
        """Mark `event` applied by `consumer`; False if it was applied before (a duplicate,
        counted in the service's `events_duplicate_total`)."""
        if inbox.claim(self.session, event.id, consumer):
            return True
        platform_metrics(self.service).duplicates.labels(event.type).inc()
        return False


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
