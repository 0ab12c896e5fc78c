"""nameko entrypoint for consuming CivicPulse events safely.

`@handles("sentiment.incident.detected")` is nameko's `@event_handler` (same exchange, queue and
routing-key conventions) with three differences:

- the body is parsed into a validated `Envelope` before a worker starts; a message that cannot
  be decoded or does not match its contract goes straight to the service's dead-letter queue with
  the reason in its headers (the queue consumer never dies on bad input);
- a worker that raises a `PermanentError` dead-letters the message; any other exception parks it
  in a retry queue with exponential backoff, and dead-letters it after the last attempt;
- the message is acknowledged only after it was handled, parked or dead-lettered.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import eventlet
import kombu
from kombu import binding
from kombu.message import Message
from nameko.amqp.publish import Publisher
from nameko.events import EventHandler
from nameko.messaging import QueueConsumer

from civicpulse import deadletter, envelope
from civicpulse.backoff import backoff_ms
from civicpulse.errors import ContractViolation, MalformedMessage, PermanentError
from civicpulse.observability import platform_metrics
from civicpulse.settings import for_service

log = logging.getLogger(__name__)


class SafeQueueConsumer(QueueConsumer):
    """A queue consumer that hands undecodable messages to their provider instead of dying.

    `consuming` is True while its consumers are registered with the broker (set after every
    (re)connection, cleared on a connection error): the service's /readyz waits for it, so an
    event published once a service says ready reaches its queue."""

    consuming = False

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any,
                         **kwargs: Any) -> None:
        super().on_consume_ready(connection, channel, consumers, **kwargs)
        self.consuming = True

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        self.consuming = False
        super().on_connection_error(exc, interval)

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[provider.queue],
                on_message=partial(self._on_raw_message, provider),
                on_decode_error=partial(self._on_decode_error, provider),
                accept=self.accept,
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def _on_raw_message(self, provider: EventConsumer, message: Message) -> None:
        try:
            body = message.decode()
        except Exception as exc:  # noqa: BLE001 - any decode failure is the message's fault
            self._on_decode_error(provider, message, exc)
            return
        self.handle_message(provider, body, message)

    def _on_decode_error(self, provider: EventConsumer, message: Message, exc: Exception) -> None:
        self.container.spawn_managed_thread(
            partial(provider.dead_letter, message, MalformedMessage(f"undecodable: {exc}")),
            identifier="dead_letter",
        )


class EventConsumer(EventHandler):
    queue_consumer = SafeQueueConsumer()

    def __init__(self, event_type: str, **kwargs: Any) -> None:
        super().__init__(event_type.split(".", 1)[0], event_type, **kwargs)

    def setup(self) -> None:
        super().setup()
        self.service = self.container.service_name
        self.settings = for_service(self.service)
        # Also bound to the service's retry exchange, where its parked messages come back.
        q = self.queue
        self.queue = kombu.Queue(q.name, durable=q.durable, auto_delete=q.auto_delete,
                                 exclusive=q.exclusive, bindings=[
                                     binding(q.exchange, routing_key=q.routing_key),
                                     binding(deadletter.retry_exchange(self.service),
                                             routing_key=q.name)])
        if self.settings.quorum_queues:
            # Replicated queues for clusters, dead-lettered (never dropped) past the limit
            self.queue.queue_arguments = deadletter.quorum_arguments(
                self.service, self.settings.max_retries * 2)
        self.metrics = platform_metrics(self.service)
        self._publisher = Publisher(self.container.config["AMQP_URI"])

    def start(self) -> None:
        if self.settings.quorum_queues:  # the broker may dead-letter into the DLQ on its own
            deadletter.declare_dlq(self.container.config["AMQP_URI"], self.service)
        super().start()

    def handle_message(self, body: Any, message: Message) -> None:
        try:
            event = envelope.parse(body)
            if event.type != self.event_type:
                raise ContractViolation(f"{event.type} arrived on {self.event_type}'s queue")
        except PermanentError as exc:
            self.dead_letter(message, exc)
            return
        super().handle_message(event, message)

    def handle_result(self, message: Message, worker_ctx: Any, result: Any = None,
                      exc_info: Any = None) -> Any:
        try:
            if exc_info is None:
                self.metrics.consumed.labels(self.event_type).inc()
                self.queue_consumer.ack_message(message)
            elif isinstance(exc_info[1], PermanentError):
                self.dead_letter(message, exc_info[1])
            else:
                self.retry_later(message, exc_info[1])
        except Exception:  # noqa: BLE001 - broker trouble: leave unacked, it comes back
            log.exception("could not settle message on %s; it will be redelivered", self.queue)
        return result, exc_info

    def _republish(self, message: Message, *, routing_key: str, exchange: str,
                   headers: dict[str, Any], declare: list[Any], expiration: float | None = None
                   ) -> None:
        self._publisher.publish(
            message.body, exchange=exchange, routing_key=routing_key, headers=headers,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            message_id=message.properties.get("message_id"), declare=declare,
            expiration=expiration, delivery_mode=2, serializer=None,
        )

    def dead_letter(self, message: Message, exc: Exception) -> None:
        reason = getattr(exc, "reason", "error")
        headers = deadletter.dead_letter_headers(
            message.headers, service=self.service, queue=self.queue.name, reason=reason,
            error=str(exc))
        log.warning("dead-lettering a message from %s: %s (%s)", self.queue.name, reason, exc)
        self._republish(message, exchange=deadletter.DLX, routing_key=self.service,
                        headers=headers, declare=[deadletter.dlq(self.service)])
        self.metrics.dead_letters.labels(reason).inc()
        self.queue_consumer.ack_message(message)

    def retry_later(self, message: Message, exc: BaseException) -> None:
        attempt = deadletter.attempts_of(message.headers) + 1
        if attempt > self.settings.max_retries:
            self.dead_letter(message, PermanentError(
                f"gave up after {attempt - 1} retries: {type(exc).__name__}: {exc}"))
            return
        headers = dict(message.headers or {})
        headers[deadletter.H_ATTEMPTS] = attempt
        delay_ms = backoff_ms(attempt, self.settings.retry_base_seconds)
        log.warning("retrying a message from %s in %d ms (attempt %d): %s",
                    self.queue.name, delay_ms, attempt, exc)
        if self.container.config["AMQP_URI"].startswith("memory://"):
            self.container.spawn_managed_thread(
                partial(self._redeliver_after, message, headers, delay_ms / 1000),
                identifier="retry_in_memory")
        else:
            self._republish(message, exchange=deadletter.retry_exchange_name(self.service),
                            routing_key=deadletter.retry_queue_name(self.queue.name),
                            headers=headers,
                            declare=[deadletter.retry_queue(self.queue.name, self.service)],
                            expiration=delay_ms / 1000)
        self.metrics.retries.labels(self.event_type).inc()
        self.queue_consumer.ack_message(message)

    def _redeliver_after(self, message: Message, headers: dict[str, Any], delay: float) -> None:
        """Embedded mode: kombu's memory transport has no TTL or dead-lettering to bring a
        parked message back, so it waits here and goes back to the queue itself (through the
        same `<service>.retry` binding the broker would use)."""
        eventlet.sleep(delay)
        self._republish(message, exchange=deadletter.retry_exchange_name(self.service),
                        routing_key=self.queue.name, headers=headers, declare=[])


handles = EventConsumer.decorator
