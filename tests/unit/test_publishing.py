"""The relay's hand-built basic.publish frames are byte for byte what py-amqp would write."""

import pytest
from amqp import Message, spec
from amqp.method_framing import frame_writer
from amqp.serialization import dumps

from civicpulse.outbox import OutgoingMessage
from civicpulse.publishing import encode_publish, message_properties


class _Conn:
    def __init__(self, frame_max: int) -> None:
        self.frame_max = frame_max
        self.bytes_sent = 0


class _Transport:
    def __init__(self) -> None:
        self.out = bytearray()

    def write(self, data) -> None:  # noqa: ANN001 - bytes or memoryview
        self.out += bytes(data)


def _py_amqp_bytes(m: OutgoingMessage, channel_id: int, frame_max: int) -> bytes:
    transport = _Transport()
    write = frame_writer(_Conn(frame_max), transport)
    args = dumps("Bssbb", (0, m.exchange, m.routing_key, True, False))  # mandatory
    write(1, channel_id, spec.Basic.Publish, args, Message(m.body, **message_properties(m)))
    return bytes(transport.out)


@pytest.mark.parametrize("body,frame_max", [
    ('{"id":"x","payload":{"title":"Straßenbahn – 路线"}}', 131072),
    ("", 131072),
    ("x" * 10_000, 4096),  # split over several body frames
])
def test_frames_match_py_amqp(body: str, frame_max: int) -> None:
    m = OutgoingMessage("0123abcd", "news.item.expired", "news.events", "news.item.expired",
                        "corr-Ω-1", body)
    cache: dict[tuple[str, str], bytes] = {}
    for _ in range(2):  # second time through the method-frame cache
        ours = b"".join(encode_publish(7, m, frame_max, cache))
        assert ours == _py_amqp_bytes(m, 7, frame_max)


def test_overlong_short_string_is_refused() -> None:
    m = OutgoingMessage("e", "t", "x" * 256, "rk", "c", "{}")
    with pytest.raises(ValueError):
        encode_publish(1, m, 131072)
