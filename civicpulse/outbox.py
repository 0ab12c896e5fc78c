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
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select, update
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


class Relay:
    """Moves committed outbox rows to the broker."""

    def __init__(self, engine: Engine, publisher_factory: Callable[[], BatchPublisher],
                 *, batch_size: int = 500, on_published: Callable[[int], None] | None = None
                 ) -> None:
        self.engine = engine
        self._publisher_factory = publisher_factory
        self._publisher: BatchPublisher | None = None
        self.batch_size = batch_size
        self._on_published = on_published
        self.connected = False

    def _publisher_or_connect(self) -> BatchPublisher:
        if self._publisher is None:
            self._publisher = self._publisher_factory()
            self.connected = True
        return self._publisher

    def relay_once(self) -> int:
        """Publish one batch of unsent events; return how many went out."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(outbox_table.c.id, outbox_table.c.event_id, outbox_table.c.event_type,
                       outbox_table.c.exchange, outbox_table.c.routing_key,
                       outbox_table.c.correlation_id, outbox_table.c.body)
                .where(outbox_table.c.sent_at.is_(None))
                .order_by(outbox_table.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            messages = [OutgoingMessage(r.event_id.split(":", 1)[0], r.event_type, r.exchange,
                                        r.routing_key, r.correlation_id, r.body) for r in rows]
            try:
                self._publisher_or_connect().publish_batch(messages)
            except Exception:
                self.reset()
                raise
            conn.execute(update(outbox_table)
                         .where(outbox_table.c.id.in_([r.id for r in rows]))
                         .values(sent_at=utcnow()))
        if self._on_published:
            self._on_published(len(rows))
        return len(rows)

    def drain(self) -> int:
        """Publish until nothing is left; return the total."""
        total = 0
        while n := self.relay_once():
            total += n
        return total

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
                self._publisher_or_connect()
                n = self.drain()
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
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(outbox_table)
                                .where(outbox_table.c.sent_at.is_(None))).scalar_one()
