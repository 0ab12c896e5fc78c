"""Who is calling: staff tokens belong to the review service (`civicpulse users add`), so
liaison asks it over nameko RPC (`review.authenticate(token) -> {"name", "role"} | None`)
through the shared `civicpulse.staff` cache (TTL `CIVICPULSE_AUTH_TTL_SECONDS`, default 30 s;
`LIAISON_AUTH_TTL_SECONDS` overrides it for liaison): a disabled account stops working within
the TTL. Partner tokens are liaison's own (partner_accounts)."""

from __future__ import annotations

import os
from typing import Any

from civicpulse.staff import Lookup, TtlCache, identify, ttl_seconds
from civicpulse.web import Forbidden
from services.liaison import domain

__all__ = ["CACHE", "Lookup", "TtlCache", "reads_need_token", "staff"]

CACHE = TtlCache(ttl_seconds("LIAISON_AUTH_TTL_SECONDS"))


def staff(request: Any, action: str, lookup: Lookup, cache: TtlCache = CACHE
          ) -> dict[str, str]:
    """The caller ({"name", "role"}) if their token is valid and their role may `action`."""
    who = identify(request, lookup, cache)
    if not domain.may(who.get("role"), action):
        raise Forbidden(f"role {who.get('role')!r} may not {action} tickets",
                        role=who.get("role"), action=action)
    return who


def reads_need_token() -> bool:
    return os.environ.get("LIAISON_READS_NEED_TOKEN", "false").lower() in ("1", "true", "yes")
