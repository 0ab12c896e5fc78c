"""Password hashes with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).

`verify` always does the work of one argon2 verification, also when there is no hash to check
against (an unknown name, an account without a password, a locked name): the time a sign-in
takes says nothing about whether the account exists.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash of a random password, made once per process, verified in place of a real one."""
    import secrets

    return _HASHER.hash(secrets.token_urlsafe(24))


def verify(stored: str | None, password: str) -> bool:
    """True if `password` matches `stored`; with `stored` None the same work is done and the
    answer is False."""
    target = stored or _dummy_hash()
    try:
        matched = _HASHER.verify(target, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return bool(matched) and stored is not None


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored)
