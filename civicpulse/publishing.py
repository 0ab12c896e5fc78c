"""Publishers the outbox relay uses: batched publisher confirms on AMQP, plain on memory://.

Messages are shaped for nameko's `@event_handler`: topic exchange `<service>.events`, routing
key = event type, JSON body, persistent, `message_id` = event id, and the correlation id in a
`nameko.correlation_id` header so it reaches the handling worker's context.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass

import amqp
import kombu

from civicpulse import queues
from civicpulse.outbox import OutgoingMessage, exchange_type

log = logging.getLogger(__name__)

UNROUTED = "civicpulse.unrouted"  # fanout exchange and queue of events no queue was bound for
H_UNROUTED_EXCHANGE = "x-civicpulse-unrouted-exchange"


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


# --- AMQP 0-9-1 wire encoding of basic.publish, for whole batches ---------------------------------
# py-amqp encodes each message through generic, per-call table-driven serialisation and one
# socket write (plus a zero-timeout read for connection.blocked) per message; that dominated the
# relay's profile. The messages the relay sends always carry the same property set, so the frames
# are assembled here directly and a whole batch goes out in one write. The bytes are identical to
# py-amqp's (tests/unit/test_publishing.py checks that).

_FRAME_HEAD = struct.Struct(">BHI")  # frame type, channel, payload size
_FRAME_END = b"\xce"
_METHOD_HEAD = struct.Struct(">HHH").pack(60, 40, 0)  # basic.publish, reserved-1
_HEADER_HEAD = struct.Struct(">HHQH")  # class basic, weight 0, body size, property flags
_U32 = struct.Struct(">I").pack
# content-type, content-encoding, headers, delivery-mode, message-id, type
_PROPERTY_FLAGS = 0x8000 | 0x4000 | 0x2000 | 0x1000 | 0x0080 | 0x0020
_CONTENT_TYPES = b"\x10application/json\x05utf-8"
_HEADER_CORRELATION = b"\x15nameko.correlation_idS"
_HEADER_EVENT_TYPE = b"\x0cx-event-typeS"
_PERSISTENT = b"\x02"
_MANDATORY = b"\x01"  # bits: mandatory (set), immediate (clear)


def _shortstr(value: str) -> bytes:
    raw = value.encode()
    if len(raw) > 255:
        raise ValueError(f"AMQP short string over 255 bytes: {value[:40]!r}...")
    return bytes((len(raw),)) + raw


def encode_publish(channel_id: int, m: OutgoingMessage, frame_max: int,
                   method_frames: dict[tuple[str, str], bytes] | None = None) -> list[bytes]:
    """The frames of one basic.publish of `m` (method, content header, body), as py-amqp
    would write them with `message_properties(m)` and `mandatory=True`."""
    key = (m.exchange, m.routing_key)
    method = method_frames.get(key) if method_frames is not None else None
    if method is None:
        payload = b"".join((_METHOD_HEAD, _shortstr(m.exchange), _shortstr(m.routing_key),
                            _MANDATORY))
        method = b"".join((_FRAME_HEAD.pack(1, channel_id, len(payload)), payload, _FRAME_END))
        if method_frames is not None:
            method_frames[key] = method
    body = m.body.encode()
    event_type = m.event_type.encode()
    correlation = m.correlation_id.encode()
    table = b"".join((_HEADER_CORRELATION, _U32(len(correlation)), correlation,
                      _HEADER_EVENT_TYPE, _U32(len(event_type)), event_type))
    header = b"".join((_HEADER_HEAD.pack(60, 0, len(body), _PROPERTY_FLAGS), _CONTENT_TYPES,
                       _U32(len(table)), table, _PERSISTENT, _shortstr(m.event_id),
                       _shortstr(m.event_type)))
    frames = [method, _FRAME_HEAD.pack(2, channel_id, len(header)), header, _FRAME_END]
    chunk = frame_max - 8
    for i in range(0, len(body), chunk):
        part = body[i:i + chunk]
        frames += (_FRAME_HEAD.pack(3, channel_id, len(part)), part, _FRAME_END)
    return frames


@dataclass
class _Batch:
    """The delivery tags of one batch the broker has not confirmed yet."""

    first: int
    last: int
    waiting: set[int]
    nacked: bool = False


class ConfirmTracker:
    """Publisher confirms tracked per delivery tag.

    The broker may confirm tags out of order (messages routed to different queues, an
    unroutable one confirmed at once), a `multiple` ack or nack settles every unconfirmed tag
    up to its own, and a nack refuses exactly the tags it covers. A batch is confirmed only when
    each of its tags was acked; one nacked tag fails that batch and no other.
    """

    def __init__(self) -> None:
        self._batches: dict[int, _Batch] = {}  # by last tag, in publishing order

    def add(self, first: int, last: int) -> None:
        self._batches[last] = _Batch(first, last, set(range(first, last + 1)))

    def ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, nack=False)

    def nack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, nack=True)

    def _settle(self, tag: int, multiple: bool, *, nack: bool) -> None:
        for batch in self._batches.values():
            if batch.first > tag:
                break
            if not multiple:
                if tag in batch.waiting:
                    batch.waiting.discard(tag)
                    batch.nacked |= nack
                if tag <= batch.last:
                    break
                continue
            covered = (set(batch.waiting) if batch.last <= tag
                       else {t for t in batch.waiting if t <= tag})
            if covered:
                batch.waiting -= covered
                batch.nacked |= nack

    def state(self, last: int) -> str:
        """"pending", "acked" or "nacked" for the batch ending at tag `last`."""
        batch = self._batches[last]
        if batch.nacked:
            return "nacked"
        return "pending" if batch.waiting else "acked"

    def unconfirmed(self, last: int) -> int:
        return len(self._batches[last].waiting)

    def forget(self, last: int) -> _Batch:
        return self._batches.pop(last)


class AmqpBatchPublisher:
    """py-amqp channel in confirm mode: publish a whole batch, then wait once for the acks.

    The batch is encoded in one buffer and written with one socket write (`encode_publish`);
    the broker's acks (usually `multiple`) are then drained until every tag of the batch is
    confirmed (`ConfirmTracker`). Messages are published `mandatory`: one no queue is bound for
    yet comes back (basic.return, always before its ack) and is kept in the queue
    `civicpulse.unrouted` (the deploy definitions' alternate exchange, declared here too) before
    its batch counts as confirmed.
    """

    def __init__(self, uri: str, *, confirm_timeout: float = 30.0, heartbeat: int = 30) -> None:
        self._conn = kombu.Connection(uri, heartbeat=heartbeat, connect_timeout=5)
        self._conn.ensure_connection(max_retries=1)
        raw = self._conn.connection  # the amqp.Connection underneath
        self._channel: amqp.Channel = raw.channel()
        self._channel.confirm_select()
        self._tracker = ConfirmTracker()
        self._channel.events["basic_ack"].add(self._tracker.ack)
        self._channel.events["basic_nack"].add(self._tracker.nack)
        self._channel.events["basic_return"].add(self._on_return)
        self._timeout = confirm_timeout
        self._next_tag = 0
        self._returned: list[tuple[str, str, amqp.Message]] = []
        self._declared: set[str] = set()
        self._method_frames: dict[tuple[str, str], bytes] = {}

    def _on_return(self, exc: Exception, exchange: str, routing_key: str,
                   message: amqp.Message) -> None:
        self._returned.append((exchange, routing_key, message))

    def _declare(self, exchange: str) -> None:
        if exchange and exchange not in self._declared:
            self._channel.exchange_declare(exchange, exchange_type(exchange), durable=True,
                                           auto_delete=False)
            self._declared.add(exchange)

    def publish_batch(self, messages: Sequence[OutgoingMessage]) -> None:
        self.wait_confirmed(self.send_batch(messages))

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> int:
        """Write the batch (one socket write); return the delivery tag that confirms it all."""
        for m in messages:
            self._declare(m.exchange)
        ch = self._channel
        raw = ch.connection
        if raw is None:
            raise amqp.exceptions.RecoverableConnectionError("publish: connection closed")
        frames: list[bytes] = []
        channel_id, frame_max, cache = ch.channel_id, raw.frame_max, self._method_frames
        for m in messages:
            frames += encode_publish(channel_id, m, frame_max, cache)
        last = self._track(len(messages))  # before the write: no confirm can precede it
        raw.transport.write(b"".join(frames))
        raw.bytes_sent += 1
        return last

    def _track(self, count: int) -> int:
        first = self._next_tag + 1
        self._next_tag += count
        self._tracker.add(first, self._next_tag)
        return self._next_tag

    def wait_confirmed(self, tag: int) -> None:
        """Block until the broker acked every message of the batch ending at `tag`; raise
        `MessageNacked` if it refused any of them, `ConfirmTimeout` if it did not answer."""
        self._wait_for(tag)
        if self._returned:
            self._keep_unrouted()

    def _wait_for(self, tag: int) -> None:
        deadline = time.monotonic() + self._timeout
        while (state := self._tracker.state(tag)) == "pending":
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConfirmTimeout(f"broker left {self._tracker.unconfirmed(tag)} message(s) "
                                     f"of the batch up to tag {tag} unconfirmed")
            self._conn.drain_events(timeout=left)
        batch = self._tracker.forget(tag)
        if state == "nacked":
            raise MessageNacked(f"broker refused message(s) of the batch {batch.first}..{tag}")

    def _keep_unrouted(self) -> None:
        """Publish the returned (unroutable) messages into `civicpulse.unrouted`, confirmed."""
        returned, self._returned = self._returned, []
        ch = self._channel
        if UNROUTED not in self._declared:
            ch.exchange_declare(UNROUTED, "fanout", durable=True, auto_delete=False)
            ch.queue_declare(UNROUTED, durable=True, auto_delete=False,
                             arguments=queues.replicated())
            ch.queue_bind(UNROUTED, UNROUTED, "")
            self._declared.add(UNROUTED)
        # Track the tags BEFORE publishing: py-amqp's basic_publish reads pending frames first
        # (drain_events(timeout=0), to notice connection.blocked), so the broker's ack of one
        # of these messages can be dispatched while the next one is published. An ack for a
        # tag not tracked yet was dropped, and the batch then waited for it forever (the
        # outbox never drained: tests/unit/test_confirms.py, docs/reliability.md).
        last = self._track(len(returned))
        for exchange, routing_key, message in returned:
            headers = dict(message.properties.get("application_headers") or {})
            headers[H_UNROUTED_EXCHANGE] = exchange
            message.properties["application_headers"] = headers
            ch.basic_publish(message, exchange=UNROUTED, routing_key=routing_key)
        log.warning("kept %d event(s) no queue was bound for in %s", len(returned), UNROUTED)
        self._wait_for(last)

    def keepalive(self) -> None:
        """While idle: read what the broker sent (its heartbeats) and send ours when due, so
        the broker never drops an idle relay connection."""
        with contextlib.suppress(TimeoutError):  # socket.timeout is TimeoutError
            self._conn.drain_events(timeout=0.01)
        self._conn.heartbeat_check()

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
