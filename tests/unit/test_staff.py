"""civicpulse.staff: the shared token → identity TTL cache and bearer-token identification."""

from __future__ import annotations

import hashlib

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from civicpulse import staff
from civicpulse.web import Unauthorized

WHO = {"name": "wang", "role": "section_head"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Identity:
    """Stands in for identity's `authenticate`: counts calls; "good" is wang's token."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.accounts: dict[str, dict[str, str]] = {"good": WHO}

    def authenticate(self, token: str) -> dict[str, str] | None:
        self.calls.append(token)
        return self.accounts.get(token)


def request(auth: str | None) -> Request:
    headers = {"Authorization": auth} if auth is not None else {}
    return Request(EnvironBuilder(headers=headers).get_environ())


def test_answers_are_cached_for_the_ttl_then_asked_again() -> None:
    clock, identity = Clock(), Identity()
    cache = staff.TtlCache(30, clock)
    assert cache.get_or("good", identity.authenticate) == WHO
    clock.now += 29.9
    assert cache.get_or("good", identity.authenticate) == WHO
    assert identity.calls == ["good"]
    del identity.accounts["good"]  # disabled in identity
    clock.now += 0.2
    assert cache.get_or("good", identity.authenticate) is None
    assert identity.calls == ["good", "good"]


def test_unknown_tokens_are_cached_too_and_no_raw_token_is_kept() -> None:
    identity = Identity()
    cache = staff.TtlCache(30, Clock())
    assert cache.get_or("bad", identity.authenticate) is None
    assert cache.get_or("bad", identity.authenticate) is None
    assert identity.calls == ["bad"]
    assert list(cache._items) == [hashlib.sha256(b"bad").hexdigest()]
    cache.clear()
    assert cache.get_or("bad", identity.authenticate) is None and len(identity.calls) == 2


def test_identify_returns_the_caller_or_raises_unauthorized() -> None:
    identity, cache = Identity(), staff.TtlCache(30, Clock())
    assert staff.identify(request("Bearer good"), identity.authenticate, cache) == WHO
    for auth in (None, "Basic x", "Bearer ", "Bearer bad"):
        with pytest.raises(Unauthorized):
            staff.identify(request(auth), identity.authenticate, cache)
    assert identity.calls == ["good", "bad"], "a missing header never reaches identity"


def test_ttl_from_env_with_a_service_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(staff.TTL_ENV, raising=False)
    monkeypatch.delenv("SVC_AUTH_TTL_SECONDS", raising=False)
    assert staff.ttl_seconds("SVC_AUTH_TTL_SECONDS") == staff.DEFAULT_TTL_SECONDS == 30.0
    monkeypatch.setenv(staff.TTL_ENV, "5")
    assert staff.ttl_seconds() == staff.ttl_seconds("SVC_AUTH_TTL_SECONDS") == 5.0
    monkeypatch.setenv("SVC_AUTH_TTL_SECONDS", "0.5")
    assert staff.ttl_seconds("SVC_AUTH_TTL_SECONDS") == 0.5


def test_the_ttl_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(staff.TTL_ENV, "300")
    assert staff.ttl_seconds() == staff.MAX_TTL_SECONDS == 300.0
    for bad in ("301", "86400", "-1"):
        monkeypatch.setenv(staff.TTL_ENV, bad)
        with pytest.raises(ValueError, match=staff.TTL_ENV):
            staff.ttl_seconds()
