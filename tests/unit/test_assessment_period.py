"""Assessment periods: months and quarters in office time, half-open."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from assessment import period

TZ = ZoneInfo("Asia/Shanghai")


def test_a_month_runs_to_the_next_months_first_midnight_office_time() -> None:
    dec = period.month("2026-12")
    assert (dec.key, dec.label) == ("2026-12", "2026年12月")
    assert dec.since == datetime(2026, 12, 1, tzinfo=TZ)
    assert dec.until == datetime(2027, 1, 1, tzinfo=TZ)


def test_a_quarter_is_three_months() -> None:
    q4 = period.quarter("2026q4")
    assert (q4.key, q4.label) == ("2026Q4", "2026年第4季度")
    assert (q4.since, q4.until) == (datetime(2026, 10, 1, tzinfo=TZ),
                                    datetime(2027, 1, 1, tzinfo=TZ))
    assert period.quarter("2026Q1").until == datetime(2026, 4, 1, tzinfo=TZ)


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-10", "2026/10"])
def test_a_malformed_month_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        period.month(bad)


@pytest.mark.parametrize("bad", ["2026Q5", "2026Q0", "Q4"])
def test_a_malformed_quarter_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        period.quarter(bad)
