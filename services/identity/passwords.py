"""Password hashes with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).

`verify` always does the work of one argon2 verification, also when there is no hash to check
against (an unknown name, an account without a password, a locked name): the time a sign-in
takes says nothing about whether the account exists.

Hashing and verifying run in eventlet's pool of OS threads (`tpool`; argon2's C code releases the
GIL), so the ~0.1 s and 64 MiB of one verification never stall the service's other green
threads: a burst of sign-ins does not delay `authenticate`, which every staff request waits for.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from eventlet import tpool

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return tpool.execute(_HASHER.hash, password)


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
        matched = tpool.execute(_HASHER.verify, target, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return bool(matched) and stored is not None


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored)
