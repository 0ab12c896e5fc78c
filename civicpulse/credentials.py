"""Bearer tokens by kind. Every token CivicPulse issues starts with the prefix of its kind, so any
service can tell a partner's or a collector's token from a staff token without asking anyone, and
answer 403 (wrong kind of credential) instead of 401 (no credential). Only the sha256 of a token
is ever stored; the prefix carries no secret."""

from __future__ import annotations

import hashlib
import secrets

PREFIXES = {"staff": "cps_", "partner": "cpp_", "collector": "cpc_"}


def issue(kind: str) -> str:
    """A new random token of `kind` (`staff`, `partner` or `collector`)."""
    return PREFIXES[kind] + secrets.token_urlsafe(32)


def kind_of(token: str) -> str | None:
    """The kind a token claims by its prefix (None for an unprefixed or foreign token)."""
    return next((kind for kind, prefix in PREFIXES.items() if token.startswith(prefix)), None)


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
