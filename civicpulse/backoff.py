"""Exponential backoff, one rule for every retry in the suite (parked messages, webhook and
notification deliveries). Free of any AMQP client, so use cases can import it."""

from __future__ import annotations


def backoff_ms(attempt: int, base_seconds: float, cap_seconds: float = 300.0) -> int:
    """Exponential backoff: base, 2*base, 4*base ... capped, in milliseconds."""
    return int(min(base_seconds * (2 ** max(attempt - 1, 0)), cap_seconds) * 1000)
