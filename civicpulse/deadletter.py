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
from dataclasses import dataclass, field
from typing import Any

import kombu

from civicpulse.envelope import utcnow
from civicpulse.queues import replicated
from civicpulse.settings import quorum_queues

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
                       durable=True, queue_arguments=replicated())


def declare_dlq(uri: str, service: str) -> None:
    """Declare the service's DLQ and its binding (idempotent)."""
    with kombu.Connection(uri, connect_timeout=5) as conn:
        dlq(service)(conn.channel()).declare()


def retry_exchange_name(service: str) -> str:
    return f"{service}.retry"


def retry_exchange(service: str) -> kombu.Exchange:
    return kombu.Exchange(retry_exchange_name(service), type="direct", durable=True)


def retry_queue(queue: str, service: str) -> kombu.Queue:
    """`<queue>.retry`: bound to `<service>.retry` by its name; expired messages go back to
    `<queue>` through the same exchange."""
    name = retry_queue_name(queue)
    arguments: dict[str, Any] = {"x-dead-letter-exchange": retry_exchange_name(service),
                                 "x-dead-letter-routing-key": queue}
    if quorum_queues():  # expired messages are moved back at least once, never dropped
        arguments |= {**replicated(), "x-dead-letter-strategy": "at-least-once",
                      "x-overflow": "reject-publish"}
    return kombu.Queue(name, exchange=retry_exchange(service), routing_key=name, durable=True,
                       queue_arguments=arguments)


def quorum_arguments(service: str, delivery_limit: int) -> dict[str, Any]:
    """Arguments of a service's consumer queue as a quorum queue (replicated, for clusters).

    The broker's delivery limit stops a message that kills its consumer outright from being
    redelivered forever; past it RabbitMQ dead-letters the message into `civicpulse.dlq.<service>`
    (it would drop it without a dead-letter exchange). At-least-once dead-lettering (which needs
    reject-publish overflow) keeps it until the DLQ confirmed it.
    """
    return {"x-queue-type": "quorum", "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DLX, "x-dead-letter-routing-key": service,
            "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


def source_queue(headers: dict[str, Any] | None) -> str | None:
    """The queue a dead letter came from: our header, or the broker's `x-death` record (a
    message RabbitMQ itself dead-lettered, e.g. past a quorum queue's delivery limit)."""
    h = headers or {}
    if h.get(H_QUEUE):
        return str(h[H_QUEUE])
    deaths = h.get("x-death") or []
    if deaths and isinstance(deaths[0], dict) and deaths[0].get("queue"):
        return str(deaths[0]["queue"])
    return None


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


def _letter(msg: Any) -> DeadLetter:
    h = msg.headers or {}
    return DeadLetter(str(h.get(H_REASON, "?")), str(h.get(H_ERROR, "")),
                      source_queue(h) or "", attempts_of(h), str(h.get(H_AT, "")),
                      msg.body.decode("utf-8", "replace") if isinstance(msg.body, bytes)
                      else str(msg.body), msg.properties.get("message_id"))


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
            out.append(_letter(msg))
        for msg in held:
            msg.requeue()
    return out


@dataclass
class ReplayReport:
    replayed: int = 0
    skipped: list[DeadLetter] = field(default_factory=list)  # no source queue: left in the DLQ


def replay(uri: str, service: str, limit: int | None = None) -> int:
    """Send the dead letters present now back to the queues they came from; how many went."""
    return replay_report(uri, service, limit).replayed


def replay_report(uri: str, service: str, limit: int | None = None) -> ReplayReport:
    """Send the dead letters present now back to the queues they came from, attempts reset.

    A letter whose source queue is unknown (no header, no `x-death`) is skipped, reported and
    left in the DLQ; the replay goes on with the next one."""
    report = ReplayReport()
    with _open(uri) as conn:
        channel = conn.channel()
        q = dlq(service)(channel)
        q.declare()
        producer = kombu.Producer(channel)
        # Only the letters present now: one that fails again must not be replayed in a loop.
        present = q.queue_declare(passive=True).message_count
        held = []  # skipped letters stay unacked until the end, so `get` moves past them
        try:
            for _ in range(present):
                if limit is not None and report.replayed >= limit:
                    break
                msg = q.get(no_ack=False)
                if msg is None:
                    break
                if (target := source_queue(msg.headers)) is None:
                    held.append(msg)
                    report.skipped.append(_letter(msg))
                    continue
                _send_back(producer, msg, target)
                msg.ack()
                report.replayed += 1
        finally:
            for msg in held:
                msg.requeue()
    return report


def _send_back(producer: kombu.Producer, msg: Any, target: str) -> None:
    h = dict(msg.headers or {})
    for key in (H_REASON, H_ERROR, H_ATTEMPTS, H_AT, H_QUEUE, H_SERVICE, "x-death",
                "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                "x-delivery-count"):
        h.pop(key, None)
    h["x-civicpulse-replayed-at"] = utcnow().isoformat()
    producer.publish(msg.body, exchange="", routing_key=target, headers=h,
                     content_type=msg.content_type, content_encoding=msg.content_encoding,
                     delivery_mode=2, message_id=msg.properties.get("message_id"), retry=True)
