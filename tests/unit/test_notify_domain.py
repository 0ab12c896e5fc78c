"""Pure notification rules (services.notify.domain)."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from services.notify import domain

SH = ZoneInfo("Asia/Shanghai")


def test_dedupe_key_is_event_recipient_channel() -> None:
    assert domain.dedupe_key("e1", "staff:wang", "email") == "e1|staff:wang|email"
    assert domain.dedupe_key("e1", "staff:wang", "email") != \
        domain.dedupe_key("e1", "staff:wang", "inbox")


def test_backoff_doubles_and_is_capped() -> None:
    assert [domain.backoff_seconds(n, 2, 30) for n in range(6)] == [0, 2, 4, 8, 16, 30]


def test_quiet_hours_wrapping_midnight() -> None:
    start, end = domain.parse_clock("22:00"), domain.parse_clock("07:30")
    late = datetime(2026, 11, 29, 23, 15, tzinfo=SH)
    assert domain.quiet_until(late, start, end) == datetime(2026, 11, 30, 7, 30, tzinfo=SH)
    early = datetime(2026, 11, 29, 6, 0, tzinfo=SH)
    assert domain.quiet_until(early, start, end) == datetime(2026, 11, 29, 7, 30, tzinfo=SH)
    assert domain.quiet_until(datetime(2026, 11, 29, 7, 30, tzinfo=SH), start, end) is None
    assert domain.quiet_until(datetime(2026, 11, 29, 12, 0, tzinfo=SH), start, end) is None


def test_quiet_hours_within_a_day_and_none() -> None:
    start, end = time(12, 0), time(14, 0)
    assert domain.quiet_until(datetime(2026, 1, 1, 13, 0, tzinfo=SH), start, end) == \
        datetime(2026, 1, 1, 14, 0, tzinfo=SH)
    assert domain.quiet_until(datetime(2026, 1, 1, 14, 0, tzinfo=SH), start, end) is None
    assert domain.quiet_until(datetime(2026, 1, 1, 13, 0, tzinfo=SH), start, start) is None
