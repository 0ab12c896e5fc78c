"""The browser session: one signed cookie (itsdangerous), no server-side state.

The cookie holds who signed in (a staff name and role, or a partner agency), the API token the
console calls the services with on their behalf (identity's session token `cps_…`, or the
agency's `cpp_…`), the CSRF token of the session's forms, and when the session began. It is
signed with CONSOLE_SECRET_KEY and timestamped: a cookie not re-signed within the idle timeout,
or older than the absolute limit, is refused. Pages the person opens re-sign it (sliding idle
timeout); the live fragments polled in the background do not, so an open tab does not keep a
session alive forever.

Anonymous visitors get a session too (kind "anonymous"): it carries the CSRF token of the
sign-in form. Pure logic: no nameko, no werkzeug.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "cp_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
KINDS = ("anonymous", "staff", "partner")
SALT = "civicpulse.console.session.v1"


@dataclass(frozen=True)
class Session:
    kind: str  # "anonymous" | "staff" | "partner"
    csrf: str
    name: str = ""  # the staff member's name, or the partner's agency code
    role: str = ""  # staff only
    token: str = ""  # the API token the console uses for this person
    started: float = 0.0
    section: str = ""  # staff: their section (处室), for "tickets I lead"

    @property
    def signed_in(self) -> bool:
        return self.kind in ("staff", "partner") and bool(self.token)


def anonymous() -> Session:
    return Session("anonymous", secrets.token_urlsafe(24))


def signed_in(kind: str, name: str, token: str, role: str = "", section: str = "",
              clock: Callable[[], float] = time.time) -> Session:
    """A new session after a successful sign-in: a fresh CSRF token (never the anonymous one,
    so a token planted before sign-in is worthless after it)."""
    return Session(kind, secrets.token_urlsafe(24), name, role, token, clock(), section)


def csrf_matches(session: Session, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf.encode(), (given or "").encode())


class SessionCodec:
    def __init__(self, secret: str, idle_seconds: float, max_seconds: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.clock = clock
        self._signer = URLSafeTimedSerializer(secret, salt=SALT)

    def dumps(self, session: Session) -> str:
        return self._signer.dumps(asdict(session))

    def loads(self, raw: str | None) -> Session | None:
        """The session in a cookie value; None if absent, forged, idle too long, past the
        absolute limit or malformed."""
        if not raw:
            return None
        try:
            data: Any = self._signer.loads(raw, max_age=self.idle_seconds)
        except BadSignature:  # SignatureExpired is a BadSignature
            return None
        try:
            session = Session(**data)
        except TypeError:
            return None
        if session.kind not in KINDS or not session.csrf:
            return None
        if session.kind != "anonymous" and self.clock() - session.started > self.max_seconds:
            return None
        return session
