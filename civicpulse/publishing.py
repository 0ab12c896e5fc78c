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


def _shortstr(value: str) -> bytes:
    raw = value.encode()
    if len(raw) > 255:
        raise ValueError(f"AMQP short string over 255 bytes: {value[:40]!r}...")
    return bytes((len(raw),)) + raw


def encode_publish(channel_id: int, m: OutgoingMessage, frame_max: int,
                   method_frames: dict[tuple[str, str], bytes] | None = None) -> list[bytes]:
    """The frames of one basic.publish of `m` (method, content header, body), as py-amqp
    would write them with `message_properties(m)`."""
    key = (m.exchange, m.routing_key)
    method = method_frames.get(key) if method_frames is not None else None
    if method is None:
        payload = b"".join((_METHOD_HEAD, _shortstr(m.exchange), _shortstr(m.routing_key),
                            b"\x00"))
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


class AmqpBatchPublisher:
    """py-amqp channel in confirm mode: publish a whole batch, then wait once for the acks.

    The batch is encoded in one buffer and written with one socket write (`encode_publish`);
    the broker's acks (usually `multiple`) are then drained until the last tag is confirmed.
    """

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
        self._method_frames: dict[tuple[str, str], bytes] = {}

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
        raw.transport.write(b"".join(frames))
        raw.bytes_sent += 1
        self._next_tag += len(messages)
        return self._next_tag

    def wait_confirmed(self, tag: int) -> None:
        """Block until the broker acked every message up to `tag`; raise on a nack or timeout."""
        self._wait_for(tag)

    def _wait_for(self, tag: int) -> None:
        deadline = time.monotonic() + self._timeout
        while self._acked < tag and not self._nacked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConfirmTimeout(f"broker confirmed {self._acked} of {tag} messages")
            self._conn.drain_events(timeout=left)
        if self._nacked:
            raise MessageNacked("broker refused a message of the batch")

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
