"""Staff identity rules, pure: roles, the password policy, lockout after repeated failures, the
lifetime of a sign-in session. No I/O here; the use cases in `accounts.py` and `sign_in.py`
apply these rules to rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

STAGES = ("section_head", "leader_in_charge", "principal")
ROLES = (*STAGES, "editor", "admin")
CONTACT_FIELDS = ("section", "email", "im_id")
NAME_MAX = 64

# sign-in outcomes (also the `outcome` column of the sign-in audit log)
OK = "ok"
BAD_CREDENTIALS = "bad_credentials"
LOCKED = "locked"
DISABLED = "disabled"
OUTCOMES = (OK, BAD_CREDENTIALS, LOCKED, DISABLED)

RECORDS_ROLES = frozenset({"admin"})


class WeakPassword(ValueError):
    """The password breaks the policy (the message says which rule)."""


class InvalidRole(ValueError):
    """Not one of ROLES."""


@dataclass(frozen=True)
class Policy:
    """Sign-in policy, from identity's validated YAML (`config/identity.yaml`)."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_lifetime: timedelta = timedelta(hours=12)
    min_password_length: int = 12
    max_password_length: int = 1024


@dataclass(frozen=True)
class Throttle:
    """Consecutive failed sign-ins under one name (known or not) and the lock they caused."""

    failures: int = 0
    locked_until: datetime | None = None


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidRole(f"role must be one of {', '.join(ROLES)}")
    return role


def check_password(password: str, policy: Policy) -> str:
    """The password if the policy accepts it; WeakPassword naming the rule otherwise."""
    if len(password) < policy.min_password_length:
        raise WeakPassword(f"a password needs at least {policy.min_password_length} characters")
    if len(password) > policy.max_password_length:
        raise WeakPassword(f"a password has at most {policy.max_password_length} characters")
    if not password.strip():
        raise WeakPassword("a password cannot be only spaces")
    if len(set(password)) < 4:
        raise WeakPassword("a password needs at least 4 different characters")
    return password


def locked_for(throttle: Throttle, now: datetime) -> float | None:
    """Seconds until the lock ends (rounded up to a whole second), or None when not locked."""
    if throttle.locked_until is None or throttle.locked_until <= now:
        return None
    return float(max(1, -(-(throttle.locked_until - now) // timedelta(seconds=1))))


def after_failure(throttle: Throttle, now: datetime, policy: Policy) -> Throttle:
    """One more consecutive failure; the `max_failures`-th locks the name for `lockout` and
    starts the count again (a failure after the lock ends counts from one)."""
    if throttle.locked_until is not None and throttle.locked_until <= now:
        throttle = Throttle()  # the previous lock is over: a fresh start
    failures = throttle.failures + 1
    if failures >= policy.max_failures:
        return Throttle(0, now + policy.lockout)
    return Throttle(failures, None)


def after_success() -> Throttle:
    return Throttle()


def session_expiry(now: datetime, policy: Policy) -> datetime:
    """When a session issued now stops working (absolute: activity does not extend it)."""
    return now + policy.session_lifetime


def session_valid(expires_at: datetime, revoked_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and now < expires_at


def token_hash(token: str) -> str:
    """What identity stores of a bearer or session token: its sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def may_read_records(role: str | None) -> bool:
    """Who may read the staff records of a period (`GET /records`)."""
    return role in RECORDS_ROLES
