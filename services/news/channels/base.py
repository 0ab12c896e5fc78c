"""The adapter interface every channel implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class TransmitError(Exception):
    """The channel did not take the rendition (network error, 5xx, timeout): retry later."""


@dataclass(frozen=True)
class Rendition:
    """One item formatted for one channel.

    `files` (relative path → text) is what a filesystem transmitter writes, `removals` what it
    takes out of the served folder; `document` is what a webhook transmitter posts (as JSON);
    `primary` is the file whose URL is the receipt.
    """

    channel: str
    item_id: str
    action: str
    document: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    removals: tuple[str, ...] = ()
    primary: str | None = None


class Formatter(Protocol):
    def format(self, item: dict[str, Any], action: str, context: dict[str, Any]
               ) -> Rendition: ...


class Transmitter(Protocol):
    def transmit(self, rendition: Rendition, delivery_id: str = "") -> str:
        """Send; `delivery_id` is the same on every retry of one delivery (for dedupe)."""
        ...
