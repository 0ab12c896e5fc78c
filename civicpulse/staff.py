"""Who is calling, for staff HTTP endpoints: staff accounts, their bearer tokens and sign-in
session tokens belong to the identity service (`civicpulse users add NAME --role ROLE`); other
services ask it over nameko RPC (`identity.authenticate(token) -> {"name", "role"} | None`)
and keep each answer for a short TTL (`CIVICPULSE_AUTH_TTL_SECONDS`, default 30 s, at most
300 s), so a disabled or rotated token (or a revoked session) stops working within the TTL. The
cache is keyed by the token's sha256: no raw token is kept in memory. Services do not call
this directly: `civicpulse.access` checks each endpoint's policy.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from civicpulse import settings
from civicpulse.web import Unauthorized, bearer_token

Identity = dict[str, str]
Lookup = Callable[[str], Identity | None]

TTL_ENV = "CIVICPULSE_AUTH_TTL_SECONDS"
DEFAULT_TTL_SECONDS = 30.0
MAX_TTL_SECONDS = 300.0
MAX_ENTRIES = 10_000


def ttl_seconds(override_env: str | None = None) -> float:
    """The cache TTL: `override_env` (a service's own variable) if set, else
    `CIVICPULSE_AUTH_TTL_SECONDS`, else 30 s. Above 300 s (or negative) is refused: a disabled
    token must stop working within minutes."""
    for name in (override_env, TTL_ENV):
        if name and (value := (settings.named(name) or "").strip()):
            ttl = float(value)
            if not 0 <= ttl <= MAX_TTL_SECONDS:
                raise ValueError(f"{name}={value}: the staff-token cache TTL must be between 0 "
                                 f"and {MAX_TTL_SECONDS:g} seconds")
            return ttl
    return DEFAULT_TTL_SECONDS


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TtlCache:
    """token → identity (or None: unknown tokens are cached too), for `ttl` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._items: dict[str, tuple[float, Identity | None]] = {}
        self._lock = threading.Lock()

    def get_or(self, token: str, lookup: Lookup) -> Identity | None:
        key = token_key(token)
        now = self.clock()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        who = lookup(token)
        with self._lock:
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()
            self._items[key] = (now, who)
        return who

    def forget(self, token: str) -> None:
        """Drop one token's answer (a signed-out session is refused at once, not after the TTL)."""
        with self._lock:
            self._items.pop(token_key(token), None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE: TtlCache | None = None


def cache() -> TtlCache:
    """The process's staff-token cache (created on first use, with the configured TTL)."""
    global _CACHE
    if _CACHE is None:
        _CACHE = TtlCache(ttl_seconds())
    return _CACHE


def identify(request: Any, lookup: Lookup, cache: TtlCache) -> Identity:
    """The caller's {"name", "role"} from `Authorization: Bearer <token>`; Unauthorized (401)
    if the header is missing or the token is unknown or disabled."""
    who = cache.get_or(bearer_token(request), lookup)
    if who is None:
        raise Unauthorized("unknown or disabled staff token")
    return who
