"""Identity's pure rules: the password policy, lockout after consecutive failures, session
lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.identity import domain
from services.identity.domain import Policy, Throttle

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
POLICY = Policy(max_failures=5, lockout=timedelta(minutes=15))


@pytest.mark.parametrize("password, rule", [
    ("short-pw", "at least 12"),
    (" " * 20, "only spaces"),
    ("aaaaaaaaaaaaaaaa", "4 different"),
    ("x" * 1025, "at most 1024"),
])
def test_password_policy_refuses_with_the_rule(password: str, rule: str) -> None:
    with pytest.raises(domain.WeakPassword, match=rule):
        domain.check_password(password, POLICY)


def test_password_policy_accepts_a_long_enough_password() -> None:
    assert domain.check_password("correct horse battery", POLICY) == "correct horse battery"
    assert domain.check_password("12345678", Policy(min_password_length=8)) == "12345678"
    with pytest.raises(domain.WeakPassword):
        domain.check_password("1234567", Policy(min_password_length=8))


def test_four_failures_do_not_lock_the_fifth_does() -> None:
    state = Throttle()
    for n in range(1, 5):
        state = domain.after_failure(state, NOW, POLICY)
        assert state == Throttle(n, None) and domain.locked_for(state, NOW) is None
    state = domain.after_failure(state, NOW, POLICY)
    assert state.locked_until == NOW + timedelta(minutes=15)
    assert domain.locked_for(state, NOW) == 900.0
    assert domain.locked_for(state, NOW + timedelta(minutes=14, seconds=59, milliseconds=1)) == 1
    assert domain.locked_for(state, NOW + timedelta(minutes=15)) is None


def test_a_failure_after_the_lock_ends_counts_from_one() -> None:
    locked = Throttle(0, NOW + timedelta(minutes=15))
    later = NOW + timedelta(minutes=16)
    assert domain.after_failure(locked, later, POLICY) == Throttle(1, None)


def test_success_resets_the_count_and_the_limit_is_configurable() -> None:
    assert domain.after_success() == Throttle()
    strict = Policy(max_failures=2, lockout=timedelta(minutes=1))
    once = domain.after_failure(Throttle(), NOW, strict)
    assert domain.after_failure(once, NOW, strict).locked_until == NOW + timedelta(minutes=1)


def test_sessions_expire_absolutely_and_when_revoked() -> None:
    expires = domain.session_expiry(NOW, Policy(session_lifetime=timedelta(hours=12)))
    assert expires == NOW + timedelta(hours=12)
    assert domain.session_valid(expires, None, NOW + timedelta(hours=11, minutes=59))
    assert not domain.session_valid(expires, None, expires)
    assert not domain.session_valid(expires, NOW, NOW + timedelta(minutes=1))


def test_roles_and_records_access() -> None:
    assert domain.check_role("principal") == "principal"
    with pytest.raises(domain.InvalidRole):
        domain.check_role("mayor")
    assert domain.may_read_records("admin") and not domain.may_read_records("principal")


def test_token_hash_is_sha256_hex() -> None:
    assert domain.token_hash("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
