"""Keyed pseudonyms for people's handles (mention authors, public commenters): stable per key,
not reversible without it. The key is a secret (`civicpulse.production.secret`)."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymise(handle: str, key: bytes) -> str:
    """HMAC-SHA256 of the normalised handle (trimmed, lower case), 32 hex characters."""
    return hmac.new(key, handle.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def url_identity(url: str) -> str:
    """An id for something known only by its URL that does not keep the URL."""
    return "url-sha256:" + hashlib.sha256(url.strip().encode()).hexdigest()
