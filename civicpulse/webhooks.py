"""Signed webhooks with a timestamp, after the Standard Webhooks specification
(standardwebhooks.com), so a receiver can use any of its off-the-shelf verifiers.

Every delivery carries three headers:

    webhook-id         the delivery's id: the same on every retry of one delivery
    webhook-timestamp  Unix seconds when this attempt was signed
    webhook-signature  "v1,<base64 HMAC-SHA256 of f"{id}.{timestamp}.{body}">"

The HMAC key is the UTF-8 bytes of the shared secret (for a Standard Webhooks library, pass
`"whsec_" + base64(secret)`). The id and the timestamp are inside the signature, so neither can be
changed; `verify` refuses a timestamp further than `max_age` seconds from now (an old capture
replayed later) and, with a `SeenStore`, an id it has already accepted (a capture replayed within
the window). A retry of a delivery the receiver already took is `Replayed` too: answer it 2xx
without applying it again.

    headers = sign(body, secret, delivery_id="news-42")           # sender
    delivery_id = verify(request_headers, body, secret, seen=store)  # receiver; raises
"""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

from standardwebhooks.webhooks import Webhook

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DEFAULT_MAX_AGE = 300.0


class WebhookError(Exception):
    """A delivery that must not be applied; `reason` is safe to answer with (no secret in it)."""

    reason = "invalid webhook"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)


class BadSignature(WebhookError):
    reason = "bad or missing webhook signature"


class Stale(WebhookError):
    reason = "webhook timestamp outside the accepted window"


class Replayed(WebhookError):
    reason = "webhook delivery already received"


class SeenStore(Protocol):
    def add(self, delivery_id: str, expires_at: float, now: float) -> bool:
        """Remember an id until `expires_at`; False if it was already there (and not expired
        at `now`)."""
        ...


class MemorySeenStore:
    """Accepted ids in memory, each kept until its timestamp leaves the window (thread-safe).
    A receiver with several processes uses a shared store (e.g. a table with a unique key)."""

    def __init__(self) -> None:
        self._ids: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, delivery_id: str, expires_at: float, now: float) -> bool:
        with self._lock:
            self._ids = {k: v for k, v in self._ids.items() if v > now}
            if delivery_id in self._ids:
                return False
            self._ids[delivery_id] = expires_at
            return True


def _signer(secret: str) -> Webhook:
    if not secret:
        raise ValueError("webhook secret is empty: refusing to sign or verify with it")
    return Webhook(secret.encode())


def _signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    return _signer(secret).sign(delivery_id, when, body.decode("utf-8"))


def sign(body: bytes, secret: str, timestamp: float | None = None,
         delivery_id: str | None = None) -> dict[str, str]:
    """The headers that sign `body` (UTF-8) for one attempt of a delivery."""
    delivery_id = delivery_id or f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time() if timestamp is None else timestamp)
    return {ID_HEADER: delivery_id, TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: _signature(secret, delivery_id, stamp, body)}


def verify(headers: Mapping[str, str], body: bytes, secret: str,
           max_age: float = DEFAULT_MAX_AGE, seen: SeenStore | None = None,
           now: float | None = None) -> str:
    """Check one delivery; returns its id, or raises `BadSignature`, `Stale` or `Replayed`."""
    lower = {k.lower(): v for k, v in headers.items()}
    delivery_id, stamp, given = (lower.get(h, "") for h in
                                 (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER))
    if not (delivery_id and stamp and given):
        raise BadSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise BadSignature("webhook-timestamp is not an integer") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > max_age:
        raise Stale(f"timestamp {timestamp} is {now - timestamp:.0f} s from now")
    try:
        expected = _signature(secret, delivery_id, timestamp, body)
    except UnicodeDecodeError:
        raise BadSignature("body is not UTF-8") from None
    if not any(hmac.compare_digest(expected, s) for s in given.split(" ") if s):
        raise BadSignature()
    if seen is not None and not seen.add(delivery_id, timestamp + max_age, now):
        raise Replayed(delivery_id)
    return delivery_id
