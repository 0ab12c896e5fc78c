"""Who is calling a news write endpoint: a staff bearer token, checked with the review service
(`review.authenticate` over RPC) through the shared `civicpulse.staff` TTL cache
(`CIVICPULSE_AUTH_TTL_SECONDS`, default 30 s), then the role policy `domain.may`."""

from __future__ import annotations

from typing import Any

from civicpulse.staff import Identity, Lookup, TtlCache, identify, ttl_seconds
from civicpulse.web import Forbidden
from services.news import domain

CACHE = TtlCache(ttl_seconds())


def authenticated(request: Any, lookup: Lookup, cache: TtlCache = CACHE) -> Identity:
    """The caller ({"name", "role"}); 401 if the token is missing, unknown or disabled."""
    return identify(request, lookup, cache)


def authorize(who: Identity, *actions: str) -> Identity:
    """`who` if their role may do every one of `actions`; 403 naming the first refused one."""
    role = who.get("role")
    for action in actions:
        if not domain.may(role, action):
            raise Forbidden(f"role {role!r} may not {action.replace('_', ' ')} items",
                            role=role, action=action)
    return who


def staff(request: Any, action: str, lookup: Lookup, cache: TtlCache = CACHE) -> Identity:
    return authorize(authenticated(request, lookup, cache), action)
