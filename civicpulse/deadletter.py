"""Dead letters and retries.

A message that can never succeed goes to the dead-letter exchange `civicpulse.dlx` and lands in
the queue `civicpulse.dlq.<service>`, with the reason and the original queue in its headers.
A message that failed for a passing reason is parked in `<queue>.retry` with a per-message
expiry that grows with each attempt; RabbitMQ dead-letters it back to `<queue>` when it expires.
Both hops go through the service's own direct exchange `<service>.retry` (never the default
exchange, which would let a service's broker user write to any queue by name): `<queue>.retry`
is bound there with its own name as key, and `<queue>` with its name.
After `max_retries` attempts it is dead-lettered as well: never dropped, never retried forever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import kombu

from civicpulse.envelope import utcnow

DLX = "civicpulse.dlx"

H_REASON = "x-civicpulse-reason"
H_ERROR = "x-civicpulse-error"
H_QUEUE = "x-civicpulse-queue"
H_SERVICE = "x-civicpulse-service"
H_ATTEMPTS = "x-civicpulse-attempts"
H_AT = "x-civicpulse-dead-lettered-at"


def dlq_name(service: str) -> str:
    return f"civicpulse.dlq.{service}"


def retry_queue_name(queue: str) -> str:
    return f"{queue}.retry"


def dlx_exchange() -> kombu.Exchange:
    return kombu.Exchange(DLX, type="direct", durable=True)


def dlq(service: str) -> kombu.Queue:
    return kombu.Queue(dlq_name(service), exchange=dlx_exchange(), routing_key=service,
                       durable=True)


def retry_exchange_name(service: str) -> str:
    return f"{service}.retry"


def retry_exchange(service: str) -> kombu.Exchange:
    return kombu.Exchange(retry_exchange_name(service), type="direct", durable=True)


def retry_queue(queue: str, service: str) -> kombu.Queue:
    """`<queue>.retry`: bound to `<service>.retry` by its name; expired messages go back to
    `<queue>` through the same exchange."""
    name = retry_queue_name(queue)
    return kombu.Queue(
        name, exchange=retry_exchange(service), routing_key=name, durable=True,
        queue_arguments={"x-dead-letter-exchange": retry_exchange_name(service),
                         "x-dead-letter-routing-key": queue},
    )


def backoff_ms(attempt: int, base_seconds: float, cap_seconds: float = 300.0) -> int:
    """Exponential backoff: base, 2*base, 4*base ... capped."""
    return int(min(base_seconds * (2 ** max(attempt - 1, 0)), cap_seconds) * 1000)


def attempts_of(headers: dict[str, Any] | None) -> int:
    return int((headers or {}).get(H_ATTEMPTS, 0))


def dead_letter_headers(headers: dict[str, Any] | None, *, service: str, queue: str,
                        reason: str, error: str) -> dict[str, Any]:
    out = dict(headers or {})
    out.update({H_REASON: reason, H_ERROR: error[:1000], H_QUEUE: queue, H_SERVICE: service,
                H_AT: utcnow().isoformat()})
    return out


@dataclass
class DeadLetter:
    reason: str
    error: str
    queue: str
    attempts: int
    dead_lettered_at: str
    body: str
    message_id: str | None

    def as_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


def _open(uri: str) -> kombu.Connection:
    return kombu.Connection(uri, connect_timeout=5, transport_options={"confirm_publish": True})


def list_dead_letters(uri: str, service: str, limit: int = 100) -> list[DeadLetter]:
    """Peek at a service's DLQ without consuming it (messages are requeued)."""
    out: list[DeadLetter] = []
    with _open(uri) as conn:
        q = dlq(service)(conn.channel())
        q.declare()
        held = []
        while len(out) < limit:
            msg = q.get(no_ack=False)
            if msg is None:
                break
            held.append(msg)
            h = msg.headers or {}
            out.append(DeadLetter(str(h.get(H_REASON, "?")), str(h.get(H_ERROR, "")),
                                  str(h.get(H_QUEUE, "")), attempts_of(h), str(h.get(H_AT, "")),
                                  msg.body.decode("utf-8", "replace")
                                  if isinstance(msg.body, bytes) else str(msg.body),
                                  msg.properties.get("message_id")))
        for msg in held:
            msg.requeue()
    return out


def replay(uri: str, service: str, limit: int | None = None) -> int:
    """Send the dead letters present now back to the queues they came from, attempts reset.

    Returns how many were replayed."""
    count = 0
    with _open(uri) as conn:
        channel = conn.channel()
        q = dlq(service)(channel)
        q.declare()
        producer = kombu.Producer(channel)
        # Only the letters present now: one that fails again must not be replayed in a loop.
        present = q.queue_declare(passive=True).message_count
        limit = present if limit is None else min(limit, present)
        while count < limit:
            msg = q.get(no_ack=False)
            if msg is None:
                break
            h = dict(msg.headers or {})
            target = h.get(H_QUEUE)
            if not target:
                msg.requeue()
                break
            for key in (H_REASON, H_ERROR, H_ATTEMPTS, H_AT, H_QUEUE, H_SERVICE):
                h.pop(key, None)
            h["x-civicpulse-replayed-at"] = utcnow().isoformat()
            producer.publish(msg.body, exchange="", routing_key=target, headers=h,
                             content_type=msg.content_type,
                             content_encoding=msg.content_encoding, delivery_mode=2,
                             message_id=msg.properties.get("message_id"), retry=True)
            msg.ack()
            count += 1
    return count
