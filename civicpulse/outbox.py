"""Transactional outbox and its relay.

`record()` writes an event into the `outbox` table inside the caller's transaction. The relay
reads unsent rows in id order, publishes them in batches with publisher confirms (one wait per
batch, not per message) and marks them sent in the same database transaction that locked them.
A crash or broker outage between commit and publish therefore loses nothing: the rows stay
unsent and go out, at least once, when the broker is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Transaction,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from civicpulse.envelope import Envelope, utcnow
from civicpulse.tables import outbox_table

log = logging.getLogger(__name__)

PARTNER_EXCHANGE = "civicpulse.partners"


def event_exchange(service: str) -> str:
    """nameko's convention: events of service X are published on the topic exchange X.events."""
    return f"{service}.events"


def exchange_type(name: str) -> str:
    return "direct" if name == PARTNER_EXCHANGE else "topic"


def record(session: Session, event: Envelope, *, exchange: str | None = None,
           routing_key: str | None = None) -> None:
    session.execute(insert(outbox_table).values(
        event_id=event.id if exchange is None else f"{event.id}:{routing_key}",
        event_type=event.type,
        exchange=exchange or event_exchange(event.producer),
        routing_key=routing_key or event.type,
        correlation_id=event.correlation_id,
        body=event.to_json(),
        created_at=utcnow(),
        attempts=0,
    ))


def purge_sent(session: Session, before: datetime) -> int:
    """Delete events sent before `before` (retention: their bodies carry the data the service
    forgets); unsent ones stay whatever their age. In the caller's transaction."""
    result = session.execute(delete(outbox_table).where(
        outbox_table.c.sent_at.is_not(None), outbox_table.c.sent_at < before))
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class OutgoingMessage:
    event_id: str
    event_type: str
    exchange: str
    routing_key: str
    correlation_id: str
    body: str


class BatchPublisher(Protocol):
    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None: ...

    def close(self) -> None: ...


class PipelinedPublisher(BatchPublisher, Protocol):
    """A publisher whose batches can be written now and confirmed later, in order:
    `publish_batch(ms)` is `wait_confirmed(send_batch(ms))`."""

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> int: ...

    def wait_confirmed(self, tag: int) -> None: ...


@dataclass
class _InFlight:
    """A batch written to the broker, its rows still locked by an open transaction."""

    conn: Connection
    trans: Transaction
    ids: list[int]
    tag: int
    started: float  # perf_counter() when the batch was written

    def abandon(self) -> None:
        try:
            self.trans.rollback()
        finally:
            self.conn.close()


_SELECT_UNSENT = (
    select(outbox_table.c.id, outbox_table.c.event_id, outbox_table.c.event_type,
           outbox_table.c.exchange, outbox_table.c.routing_key,
           outbox_table.c.correlation_id, outbox_table.c.body)
    .where(outbox_table.c.sent_at.is_(None))
    .order_by(outbox_table.c.id)
    .limit(bindparam("batch_size"))
    .with_for_update(skip_locked=True)
)
# PostgreSQL: one array parameter (`id = ANY(:ids)`), not an IN list of batch_size parameters
# that SQLAlchemy expands and psycopg re-parses on every batch.
_MARK_SENT_PG = (update(outbox_table)
                 .where(outbox_table.c.id == func.any(bindparam("ids", type_=ARRAY(BigInteger))))
                 .values(sent_at=bindparam("sent_at")))
_MARK_SENT = (update(outbox_table)
              .where(outbox_table.c.id.in_(bindparam("ids", expanding=True)))
              .values(sent_at=bindparam("sent_at")))
# The relay's own transaction need not wait for its WAL flush: if PostgreSQL crashed right after
# the commit, the last batches' "sent" marks would be lost and those events published again,
# which the at-least-once contract (consumers de-duplicate through the inbox) already allows.
# The outbox rows themselves are written by the services' transactions, which stay synchronous.
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit = off")


class Relay:
    """Moves committed outbox rows to the broker."""

    def __init__(self, engine: Engine, publisher_factory: Callable[[], BatchPublisher],
                 *, batch_size: int = 500, on_published: Callable[[int], None] | None = None,
                 on_batch_seconds: Callable[[float], None] | None = None) -> None:
        self.engine = engine
        self._publisher_factory = publisher_factory
        self._publisher: BatchPublisher | None = None
        self.batch_size = batch_size
        self._on_published = on_published
        self._on_batch_seconds = on_batch_seconds
        self.connected = False

    def _publisher_or_connect(self) -> BatchPublisher:
        if self._publisher is None:
            self._publisher = self._publisher_factory()
            self.connected = True
        return self._publisher

    def relay_once(self) -> int:
        """Publish one batch of unsent events; return how many went out."""
        with self.engine.begin() as conn:
            ids, messages = self._fetch(conn)
            if not ids:
                return 0
            started = time.perf_counter()
            try:
                self._publisher_or_connect().publish_batch(messages)
            except Exception:
                self.reset()
                raise
            self._mark_sent(conn, ids)
        self._published(len(ids), started)
        return len(ids)

    def _published(self, n: int, started: float) -> None:
        """A batch of `n` went out (sent at `started`) and is marked sent."""
        if self._on_batch_seconds:
            self._on_batch_seconds(time.perf_counter() - started)
        if self._on_published:
            self._on_published(n)

    def _fetch(self, conn: Connection) -> tuple[list[int], list[OutgoingMessage]]:
        """Lock the next batch of unsent rows (in the caller's transaction)."""
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(_ASYNC_COMMIT)
        rows = conn.execute(_SELECT_UNSENT, {"batch_size": self.batch_size}).all()
        ids = [r[0] for r in rows]
        messages = [OutgoingMessage(event_id.split(":", 1)[0], event_type, exchange, routing_key,
                                    correlation_id, body)
                    for _, event_id, event_type, exchange, routing_key, correlation_id, body
                    in rows]
        return ids, messages

    def _mark_sent(self, conn: Connection, ids: list[int]) -> None:
        stmt = _MARK_SENT_PG if conn.dialect.name == "postgresql" else _MARK_SENT
        conn.execute(stmt, {"ids": ids, "sent_at": utcnow()})

    def drain(self) -> int:
        """Publish until nothing is left; return the total.

        On PostgreSQL with a publisher that supports it, batches are pipelined: batch k+1 is
        fetched (in its own transaction; SKIP LOCKED passes over batch k's rows) and written
        to the broker while the broker is still confirming batch k, so the broker's work
        overlaps the database round trips. Each batch is still marked sent, in the transaction
        that locked it, only once the broker confirmed all of it.
        """
        total = self.relay_once()  # connects (lazily) only if there is something to send
        if not total:
            return 0
        publisher = self._publisher
        if self.engine.dialect.name == "postgresql" and hasattr(publisher, "send_batch"):
            return total + self._drain_pipelined(publisher)  # type: ignore[arg-type]
        while n := self.relay_once():
            total += n
        return total

    def _drain_pipelined(self, publisher: PipelinedPublisher) -> int:
        total = 0
        inflight: list[_InFlight] = []  # at most two: awaiting confirms, and the one ahead
        try:
            while True:
                ahead = self._send_next(publisher)
                if ahead is not None:
                    inflight.append(ahead)
                if len(inflight) == (2 if ahead is not None else 1):
                    batch = inflight[0]
                    publisher.wait_confirmed(batch.tag)
                    self._mark_sent(batch.conn, batch.ids)
                    batch.trans.commit()
                    inflight.pop(0)
                    batch.conn.close()
                    total += len(batch.ids)
                    self._published(len(batch.ids), batch.started)
                if not inflight:
                    return total
        except Exception:
            # nothing unconfirmed is marked: roll back what is in flight, start a new channel
            for batch in inflight:
                try:
                    batch.abandon()
                except Exception:  # noqa: BLE001 - the original error matters more
                    log.debug("rolling back an in-flight batch failed", exc_info=True)
            self.reset()
            raise

    def _send_next(self, publisher: PipelinedPublisher) -> _InFlight | None:
        conn = self.engine.connect()
        try:
            trans = conn.begin()
            ids, messages = self._fetch(conn)
            if not ids:
                trans.rollback()
                conn.close()
                return None
            started = time.perf_counter()
            tag = publisher.send_batch(messages)
        except Exception:
            conn.close()  # rolls back
            raise
        return _InFlight(conn, trans, ids, tag, started)

    def reset(self) -> None:
        self.connected = False
        if self._publisher is not None:
            try:
                self._publisher.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                log.debug("closing publisher failed", exc_info=True)
        self._publisher = None

    def run(self, stop: threading.Event | Any, wake: Any, *, poll_seconds: float = 0.5,
            max_backoff: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> None:
        """Loop until `stop` is set; `wake` (an Event-like) cuts the poll wait short."""
        backoff = 0.5
        while not stop.is_set():
            try:
                publisher = self._publisher_or_connect()
                n = self.drain()
                if n == 0 and hasattr(publisher, "keepalive"):
                    publisher.keepalive()
                backoff = 0.5
            except Exception as exc:  # noqa: BLE001 - broker or database down: back off
                log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
                sleep(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            if n == 0:
                wake.wait(poll_seconds)
                wake.clear()

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(outbox_table)
                                .where(outbox_table.c.sent_at.is_(None))).scalar_one()
