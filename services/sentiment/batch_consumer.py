"""`@consume_batches(queue)`: a nameko entrypoint that consumes a work queue in batches.

nameko's `@consume` runs one worker per message. For high-volume collectors that costs one
transaction per mention; this entrypoint instead runs a kombu consumer loop in a managed thread:

- prefetch is bounded (`prefetch`, default (`in_flight` + 1) x `max_messages`);
- it drains up to `max_messages` messages or waits at most `max_wait_ms` after the first one;
- it runs ONE worker with the decoded bodies (a list); while it runs the next batch is drained
  and started (at most `in_flight` batches at once, settled in delivery order);
- the worker returns `{"rejected": [{"index": i, "errors": ...}, ...]}` for the items it refused:
  those messages go to the service's dead-letter queue `civicpulse.dlq.<service>` with the errors
  as the reason; an undecodable body goes there before any worker runs;
- after the worker committed, the batch is acknowledged with one multiple-ack;
- if the worker raises a transient error (database or broker unreachable) the batch is
  requeued after a pause; any other error retries the batch one message at a time: a message
  that fails on its own while others succeed is dead-lettered (reason `error`); if every one
  fails on its first delivery the batch is requeued. Nothing is acknowledged before it was
  committed.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import eventlet
import kombu
from eventlet.event import Event
from kombu.message import Message
from nameko.extensions import Entrypoint
from sqlalchemy.exc import InterfaceError, OperationalError

from civicpulse import deadletter, queues
from civicpulse.observability import platform_metrics

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@dataclass
class _InFlight:
    batch: list[Message]
    items: list[Any]
    messages: list[Message]
    result: Event | None

    def done(self) -> bool:
        return self.result is None or self.result.ready()

    def wait(self) -> None:
        if self.result is not None:
            self.result.wait()


class BatchConsumer(Entrypoint):
    def __init__(self, queue: str, max_messages: int = 500, max_wait_ms: int = 200,
                 prefetch: int | None = None, in_flight: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_flight = in_flight
        self.queue_name = queue
        self.max_messages = max_messages
        self.max_wait = max_wait_ms / 1000
        self.prefetch = prefetch or (in_flight + 1) * max_messages

    consuming = False  # True while subscribed to the queue (the service's /readyz waits for it)

    def setup(self) -> None:
        self.service = self.container.service_name
        self.uri = self.container.config["AMQP_URI"]
        self.heartbeat = self.container.config.get("HEARTBEAT", 30)
        self._stopping = False
        self._thread: Any = None
        self.consumed = 0

    def start(self) -> None:
        self._thread = self.container.spawn_managed_thread(
            self._run, identifier=f"batch-consumer:{self.queue_name}")

    def stop(self) -> None:
        self._stopping = True
        if self._thread is not None:
            with eventlet.Timeout(10, False):
                self._thread.wait()

    def kill(self) -> None:
        self._stopping = True

    # --- the loop ------------------------------------------------------------------------

    def _run(self) -> None:
        pause = 0.5
        while not self._stopping:
            try:
                with kombu.Connection(self.uri, heartbeat=self.heartbeat,
                                      transport_options={"confirm_publish": True}) as conn:
                    conn.ensure_connection(max_retries=1)
                    pause = 0.5
                    self._consume(conn)
            except Exception as exc:  # noqa: BLE001 - broker trouble: reconnect, never die
                self.consuming = False
                if self._stopping:
                    return
                log.warning("batch consumer on %s: %s; reconnecting in %.1fs",
                            self.queue_name, exc, pause)
                eventlet.sleep(pause)
                pause = min(pause * 2, 10)

    def _consume(self, conn: kombu.Connection) -> None:
        channel = conn.channel()
        # Bound to a direct exchange of the same name: collectors' broker users may write to
        # that exchange only (the default exchange would let them write to any queue).
        queue = kombu.Queue(self.queue_name, durable=True, routing_key=self.queue_name,
                            exchange=kombu.Exchange(self.queue_name, "direct", durable=True),
                            queue_arguments=queues.replicated())(channel)
        queue.declare()
        deadletter.dlq(self.service)(channel).declare()
        channel.basic_qos(0, self.prefetch, False)
        pending: list[Message] = []
        consumer = kombu.Consumer(channel, [queue], on_message=pending.append, no_ack=False)
        self._producer = kombu.Producer(channel)
        self._multiple_ack = conn.transport.driver_type == "amqp"
        inflight: deque[_InFlight] = deque()
        try:
            with consumer:
                self.consuming = True
                while not self._stopping:
                    self._fill(conn, pending, busy=bool(inflight))
                    if pending:
                        batch, pending[:] = list(pending), []
                        inflight.append(self._start(batch))
                    # Settle in delivery order (a multiple-ack covers every earlier tag); keep
                    # at most `in_flight` batches running so that one batch's database round
                    # trips overlap the next one's decoding, scoring and hashing.
                    while inflight and (inflight[0].done() or len(inflight) >= self.in_flight
                                        or not pending and self._stopping):
                        self._finish(inflight.popleft())
                    if self.heartbeat:
                        conn.heartbeat_check()
                while inflight:
                    self._finish(inflight.popleft())
        finally:
            for job in inflight:  # not acknowledged: the broker redelivers them
                job.wait()

    def _fill(self, conn: kombu.Connection, pending: list[Message], busy: bool) -> None:
        """Wait for a first message (1 s, or 10 ms while a batch is running), then up to
        max_wait for the batch to fill."""
        deadline: float | None = None
        while len(pending) < self.max_messages and not self._stopping:
            now = time.monotonic()
            if pending and deadline is None:
                deadline = now + self.max_wait
            timeout = (0.01 if busy else 1.0) if deadline is None else deadline - now
            if timeout <= 0:
                return
            try:
                conn.drain_events(timeout=timeout)
            except TimeoutError:
                if deadline is None:
                    return

    # --- one batch -----------------------------------------------------------------------

    def _start(self, batch: list[Message]) -> _InFlight:
        items, messages = [], []
        for message in batch:
            try:
                item = json.loads(message.body)
            except (ValueError, UnicodeDecodeError) as exc:
                self._dead_letter(message, "malformed", f"undecodable JSON: {exc}")
                continue
            if not isinstance(item, dict):
                self._dead_letter(message, "malformed", "a message is one JSON object")
                continue
            items.append(item)
            messages.append(message)
        return _InFlight(batch, items, messages, self._spawn(items) if items else None)

    def _finish(self, job: _InFlight) -> None:
        if job.result is not None:
            ok, result = job.result.wait()
            if ok:
                self._settle(job.messages, result)
            elif isinstance(result, TRANSIENT):
                self._requeue(len(job.items), result)
            else:
                self._one_by_one(job.items, job.messages)
        self._ack(job.batch)
        self.consumed += len(job.batch)

    def _one_by_one(self, items: list[Any], messages: list[Message]) -> None:
        outcomes = [self._run_worker([item]) for item in items]
        transient = [not ok and isinstance(r, TRANSIENT) for ok, r in outcomes]
        first_time = [not m.delivery_info.get("redelivered") for m in messages]
        if any(transient) or (not any(ok for ok, _ in outcomes) and any(first_time)):
            # The database (or everything) is failing, not one message: requeue the batch.
            self._requeue(len(items), next((r for ok, r in outcomes if not ok), None))
        for message, (ok, result) in zip(messages, outcomes, strict=True):
            if ok:
                self._settle([message], result)
            else:
                self._dead_letter(message, "error", f"{type(result).__name__}: {result}")

    def _requeue(self, n: int, error: Any) -> None:
        """Leave the batch unacknowledged and reconnect: the broker redelivers it."""
        log.warning("a batch of %d failed on %s (%s); requeueing it", n, self.queue_name, error)
        eventlet.sleep(1.0)
        raise ConnectionError("batch failed; requeued by reconnecting")

    def _spawn(self, items: list[Any]) -> Event:
        done = Event()

        def handle_result(worker_ctx: Any, result: Any = None, exc_info: Any = None) -> Any:
            done.send((exc_info is None, result if exc_info is None else exc_info[1]))
            return result, exc_info

        self.container.spawn_worker(self, (items,), {}, handle_result=handle_result)
        return done

    def _run_worker(self, items: list[Any]) -> tuple[bool, Any]:
        return self._spawn(items).wait()

    def _settle(self, messages: list[Message], result: Any) -> None:
        for r in (result or {}).get("rejected", []) if isinstance(result, dict) else []:
            self._dead_letter(messages[r["index"]], "invalid",
                              json.dumps(r.get("errors"), ensure_ascii=False))

    def _dead_letter(self, message: Message, reason: str, error: str) -> None:
        headers = deadletter.dead_letter_headers(
            message.headers, service=self.service, queue=self.queue_name, reason=reason,
            error=error)
        self._producer.publish(
            message.body, exchange=deadletter.dlx_exchange(), routing_key=self.service,
            headers=headers, content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8", delivery_mode=2,
            serializer=None)
        platform_metrics(self.service).dead_letters.labels(reason).inc()

    def _ack(self, batch: list[Message]) -> None:
        if self._multiple_ack:
            batch[-1].channel.basic_ack(batch[-1].delivery_tag, multiple=True)
        else:
            for message in batch:
                message.ack()


consume_batches = BatchConsumer.decorator
