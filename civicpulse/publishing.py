"""Publishers the outbox relay uses: batched publisher confirms on AMQP, plain on memory://.

Messages are shaped for nameko's `@event_handler`: topic exchange `<service>.events`, routing
key = event type, JSON body, persistent, `message_id` = event id, and the correlation id in a
`nameko.correlation_id` header so it reaches the handling worker's context.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import amqp
import kombu

from civicpulse.outbox import OutgoingMessage, exchange_type

log = logging.getLogger(__name__)


class ConfirmTimeout(Exception):
    pass


class MessageNacked(Exception):
    pass


def message_properties(m: OutgoingMessage) -> dict[str, object]:
    return {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "message_id": m.event_id,
        "type": m.event_type,
        "application_headers": {
            "nameko.correlation_id": m.correlation_id,
            "x-event-type": m.event_type,
        },
    }


class AmqpBatchPublisher:
    """py-amqp channel in confirm mode: publish a whole batch, then wait once for the acks."""

    def __init__(self, uri: str, *, confirm_timeout: float = 30.0, heartbeat: int = 30) -> None:
        self._conn = kombu.Connection(uri, heartbeat=heartbeat, connect_timeout=5)
        self._conn.ensure_connection(max_retries=1)
        raw = self._conn.connection  # the amqp.Connection underneath
        self._channel: amqp.Channel = raw.channel()
        self._channel.confirm_select()
        self._channel.events["basic_ack"].add(self._on_ack)
        self._channel.events["basic_nack"].add(self._on_nack)
        self._timeout = confirm_timeout
        self._next_tag = 0
        self._acked = 0
        self._nacked = False
        self._declared: set[str] = set()

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._acked = max(self._acked, delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked = True

    def _declare(self, exchange: str) -> None:
        if exchange and exchange not in self._declared:
            self._channel.exchange_declare(exchange, exchange_type(exchange), durable=True,
                                           auto_delete=False)
            self._declared.add(exchange)

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        for m in messages:
            self._declare(m.exchange)
        ch = self._channel
        for m in messages:
            ch._basic_publish(amqp.Message(m.body, **message_properties(m)),
                              exchange=m.exchange, routing_key=m.routing_key)
        self._next_tag += len(messages)
        self._wait_for(self._next_tag)

    def _wait_for(self, tag: int) -> None:
        import time

        deadline = time.monotonic() + self._timeout
        while self._acked < tag and not self._nacked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConfirmTimeout(f"broker confirmed {self._acked} of {tag} messages")
            self._conn.drain_events(timeout=left)
        if self._nacked:
            raise MessageNacked("broker refused a message of the batch")

    def close(self) -> None:
        self._conn.release()


class KombuPublisher:
    """Plain kombu producer, for transports without confirms (the embedded memory://)."""

    def __init__(self, uri: str) -> None:
        self._conn = kombu.Connection(uri)
        self._producer = kombu.Producer(self._conn.channel())
        self._declared: set[str] = set()

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        for m in messages:
            ex = kombu.Exchange(m.exchange, type=exchange_type(m.exchange), durable=True)
            if m.exchange not in self._declared:
                ex.declare(channel=self._producer.channel)
                self._declared.add(m.exchange)
            props = message_properties(m)
            self._producer.publish(
                m.body.encode(), exchange=ex, routing_key=m.routing_key,
                content_type="application/json", content_encoding="utf-8",
                delivery_mode=2, message_id=m.event_id,
                headers=props["application_headers"], retry=False,
            )

    def close(self) -> None:
        self._conn.release()


def publisher_for(uri: str) -> AmqpBatchPublisher | KombuPublisher:
    if uri.startswith("memory://"):
        return KombuPublisher(uri)
    return AmqpBatchPublisher(uri)
