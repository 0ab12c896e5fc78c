"""Publication channels behind one adapter interface: a channel is a formatter (item → a
`Rendition`) and a transmitter (a rendition → a receipt URL, or `TransmitError`).

    website  website formatter (Jinja2 HTML pages + index)  → filesystem transmitter
    journal  journal formatter (the journal's manuscript)    → filesystem transmitter
    wechat   WeChat article formatter                        → signed webhook (a gateway)
    weibo    Weibo post formatter (≤ 2,000 characters)       → signed webhook
    webhook  JSON formatter                                  → signed webhook

`build(spec)` makes one from its `ChannelSpec` (services/news/config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.news.channels.base import Formatter, Rendition, TransmitError, Transmitter
from services.news.channels.formatters import FORMATTERS
from services.news.channels.transmitters import FilesystemTransmitter, WebhookTransmitter
from services.news.config import ChannelSpec

__all__ = ["Channel", "Formatter", "Rendition", "TransmitError", "Transmitter", "build"]


@dataclass(frozen=True)
class Channel:
    name: str
    formatter: Formatter
    transmitter: Transmitter

    def send(self, item: dict[str, Any], action: str, context: dict[str, Any],
             delivery_id: str = "") -> str:
        """Format and transmit one action (publish, correct, retract, expire) of an item."""
        return self.transmitter.transmit(self.formatter.format(item, action, context),
                                         delivery_id)


def build(spec: ChannelSpec) -> Channel:
    formatter = FORMATTERS[spec.formatter](spec.name)
    transmitter: Transmitter
    if spec.transmitter == "filesystem":
        assert spec.directory is not None
        transmitter = FilesystemTransmitter(spec.directory, spec.base_url)
    else:
        if not spec.url:
            raise ValueError(f"channel {spec.name} has no webhook URL configured")
        transmitter = WebhookTransmitter(spec.url, spec.secret, spec.timeout)
    return Channel(spec.name, formatter, transmitter)
