"""Who is calling: staff tokens belong to the review service (`civicpulse users add`), so
liaison asks it over nameko RPC (`review.authenticate(token) -> {"name", "role"} | None`) and
keeps each answer for a short TTL (default 30 s, `LIAISON_AUTH_TTL_SECONDS`): a disabled
account stops working within the TTL. Partner tokens are liaison's own (partner_accounts)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from civicpulse.web import Forbidden, Unauthorized, bearer_token
from services.liaison import domain

Lookup = Callable[[str], dict[str, str] | None]


class TtlCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._items: dict[str, tuple[float, dict[str, str] | None]] = {}
        self._lock = threading.Lock()

    def get_or(self, token: str, lookup: Lookup) -> dict[str, str] | None:
        key = hashlib.sha256(token.encode()).hexdigest()  # no raw tokens kept in memory
        now = self.clock()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        who = lookup(token)
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (now, who)
        return who


CACHE = TtlCache(float(os.environ.get("LIAISON_AUTH_TTL_SECONDS", "30")))


def staff(request: Any, action: str, lookup: Lookup, cache: TtlCache = CACHE
          ) -> dict[str, str]:
    """The caller ({"name", "role"}) if their token is valid and their role may `action`."""
    who = cache.get_or(bearer_token(request), lookup)
    if who is None:
        raise Unauthorized("unknown or disabled staff token")
    if not domain.may(who.get("role"), action):
        raise Forbidden(f"role {who.get('role')!r} may not {action} tickets",
                        role=who.get("role"), action=action)
    return who


def reads_need_token() -> bool:
    return os.environ.get("LIAISON_READS_NEED_TOKEN", "false").lower() in ("1", "true", "yes")
