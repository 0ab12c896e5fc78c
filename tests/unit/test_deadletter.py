from civicpulse import deadletter
from civicpulse.backoff import backoff_ms


def test_backoff_grows_and_is_capped():
    delays = [backoff_ms(a, 1.0, cap_seconds=10) for a in range(1, 7)]
    assert delays == [1000, 2000, 4000, 8000, 10000, 10000]


def test_dead_letter_headers_carry_the_reason_and_origin():
    h = deadletter.dead_letter_headers({"keep": 1}, service="liaison", queue="q1",
                                       reason="schema", error="bad" * 600)
    assert h["keep"] == 1
    assert h[deadletter.H_REASON] == "schema" and h[deadletter.H_QUEUE] == "q1"
    assert len(h[deadletter.H_ERROR]) == 1000


def test_attempts_default_to_zero():
    assert deadletter.attempts_of(None) == 0
    assert deadletter.attempts_of({deadletter.H_ATTEMPTS: 3}) == 3
