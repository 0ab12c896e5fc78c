"""Signing in and out, and who a token belongs to.

`sign_in(name, password)` checks the password (argon2) under the lockout rule of
`domain.after_failure`, writes one audit row per attempt, and on success issues a session
token (`cps_` prefix, like an API token) with an absolute expiry. `authenticate(token)` accepts
an account's API token or a live session token of an active account. Every attempt costs one
argon2 verification, whether the name exists, has a password, is locked or not.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from civicpulse import credentials
from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from civicpulse.serialize import aware, iso
from services.identity import db, domain, metrics, passwords
from services.identity.accounts import identity_of

log = logging.getLogger(__name__)

SOURCE_MAX = 128


def sign_in(uow: UnitOfWork, name: str, password: str, policy: domain.Policy,
            source: str | None = None) -> dict[str, Any]:
    """`{"ok": True, "user": {...}, "token", "expires_at"}` or `{"ok": False, "reason",
    "retry_after"}` (reason `bad_credentials`, `locked` or `disabled`; `retry_after` seconds
    for `locked`, else None). `disabled` is only said to someone who knew the password."""
    name = (name or "")[:domain.NAME_MAX]
    source = source[:SOURCE_MAX] if source else None
    try:
        answer = _attempt(uow, name, password or "", policy, source)
    except IntegrityError:  # two first failures under a new name raced: try once more
        answer = _attempt(uow, name, password or "", policy, source)
    metrics.sign_ins.labels(answer.get("reason", domain.OK)).inc()
    return answer


def _attempt(uow: UnitOfWork, name: str, password: str, policy: domain.Policy,
             source: str | None) -> dict[str, Any]:
    with uow:
        now = utcnow()
        throttle = db.throttle(uow.session, name, for_update=True)
        throttle = domain.Throttle(throttle.failures, aware(throttle.locked_until))
        row = db.account(uow.session, name)
        wait = domain.locked_for(throttle, now)
        if wait is not None:
            passwords.verify(None, password)  # the same work as any other attempt
            outcome, answer = domain.LOCKED, _refused(domain.LOCKED, wait)
        elif not passwords.verify(row["password_hash"] if row else None, password):
            throttle = domain.after_failure(throttle, now, policy)
            db.save_throttle(uow.session, name, throttle, now)
            wait = domain.locked_for(throttle, now)
            outcome = domain.LOCKED if wait is not None else domain.BAD_CREDENTIALS
            answer = _refused(outcome, wait)
        elif row is not None and row["disabled_at"] is not None:
            outcome, answer = domain.DISABLED, _refused(domain.DISABLED, None)
        else:
            assert row is not None  # verify() is False without a stored hash
            if throttle != domain.after_success():
                db.save_throttle(uow.session, name, domain.after_success(), now)
            outcome, answer = domain.OK, _session(uow, row, now, policy)
        db.audit(uow.session, now, name, outcome, row is not None, source)
        uow.commit()
    log.info("sign-in %s: %s", name, outcome)
    return answer


def _refused(reason: str, retry_after: float | None) -> dict[str, Any]:
    return {"ok": False, "reason": reason, "retry_after": retry_after}


def _session(uow: UnitOfWork, row: dict[str, Any], now: Any, policy: domain.Policy
             ) -> dict[str, Any]:
    token = credentials.issue("staff")
    expires_at = domain.session_expiry(now, policy)
    db.add_session(uow.session, domain.token_hash(token), row["id"], now, expires_at)
    user = {**identity_of(row), "section": row["section"], "email": row["email"],
            "im_id": row["im_id"]}
    return {"ok": True, "user": user, "token": token, "expires_at": iso(expires_at)}


def authenticate(uow: UnitOfWork, token: str) -> dict[str, str] | None:
    """{"name", "role"} of the active account an API token or a live session token belongs
    to; None for anything else (unknown, expired, revoked, disabled account)."""
    if not token:
        return None
    hashed = domain.token_hash(token)
    with uow:
        row = db.active_by_token_hash(uow.session, hashed)
        if row is not None:
            return identity_of(row)
        found = db.session_account(uow.session, hashed)
    if found is None or found["disabled_at"] is not None:
        return None
    if not domain.session_valid(aware(found["expires_at"]), found["revoked_at"], utcnow()):
        return None
    return identity_of(found)


def revoke_session(uow: UnitOfWork, token: str) -> bool:
    """Sign-out: the session token stops working (True if a live session was ended). An API
    token is not a session and is left alone (`civicpulse users rotate` replaces it)."""
    if not token:
        return False
    with uow:
        done = db.revoke_session(uow.session, domain.token_hash(token), utcnow())
        uow.commit()
    return done


def recent_attempts(uow: UnitOfWork, name: str | None = None, limit: int = 200
                    ) -> list[dict[str, Any]]:
    """The sign-in audit log, newest first."""
    with uow:
        rows = db.audit_entries(uow.session, name, limit)
    return [{**r, "at": iso(r["at"]), "known": bool(r["known"])} for r in rows]
