"""The console's session cookie: signed, idle timeout, absolute limit, CSRF comparison."""

from __future__ import annotations

import time

import time_machine

from services.console.session import SessionCodec, anonymous, csrf_matches, signed_in


def codec(idle: float = 60, most: float = 3600) -> SessionCodec:
    return SessionCodec("test-secret", idle_seconds=idle, max_seconds=most)


def test_a_signed_session_reads_back_and_a_forged_one_does_not() -> None:
    s = signed_in("staff", "王芳", "cps_x", role="editor", section="新闻处")
    raw = codec().dumps(s)
    assert codec().loads(raw) == s
    assert codec().loads(raw[:-2] + ("AA" if not raw.endswith("AA") else "BB")) is None
    assert SessionCodec("another-secret", 60, 3600).loads(raw) is None
    assert codec().loads(None) is None and codec().loads("") is None


def test_a_session_not_used_within_the_idle_timeout_is_refused() -> None:
    with time_machine.travel(1_800_000_000, tick=False) as t:
        raw = codec(idle=60).dumps(signed_in("staff", "a", "cps_x", clock=time.time))
        t.shift(59)
        assert codec(idle=60).loads(raw) is not None
        t.shift(2)
        assert codec(idle=60).loads(raw) is None


def test_a_session_past_the_absolute_limit_is_refused_even_if_re_signed() -> None:
    with time_machine.travel(1_800_000_000, tick=False) as t:
        session = signed_in("staff", "a", "cps_x", clock=time.time)
        t.shift(3601)
        raw = codec(idle=60, most=3600).dumps(session)  # re-signed just now
        assert codec(idle=60, most=3600).loads(raw) is None


def test_csrf_tokens_compare_exactly_and_a_new_session_gets_a_new_one() -> None:
    anon = anonymous()
    assert csrf_matches(anon, anon.csrf)
    assert not csrf_matches(anon, None) and not csrf_matches(anon, "") \
        and not csrf_matches(anon, anon.csrf + "x")
    assert signed_in("staff", "a", "cps_x").csrf != anon.csrf
