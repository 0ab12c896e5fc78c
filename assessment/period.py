"""Assessment periods: a month (`2026-10`) or a quarter (`2026Q4`), in the office's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

OFFICE_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Period:
    key: str       # 2026-10 or 2026Q4
    label: str     # 2026年10月 or 2026年第4季度
    since: datetime
    until: datetime


def _start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=OFFICE_TZ)


def month(value: str) -> Period:
    found = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if not found or not 1 <= int(found[2]) <= 12:
        raise ValueError(f"a month is YYYY-MM, not {value!r}")
    y, m = int(found[1]), int(found[2])
    return Period(f"{y:04d}-{m:02d}", f"{y}年{m}月", _start(y, m), _start(y, m + 1))


def quarter(value: str) -> Period:
    found = re.fullmatch(r"(\d{4})[Qq]([1-4])", value.strip())
    if not found:
        raise ValueError(f"a quarter is YYYYQn (n = 1..4), not {value!r}")
    y, q = int(found[1]), int(found[2])
    first = 3 * (q - 1) + 1
    return Period(f"{y:04d}Q{q}", f"{y}年第{q}季度", _start(y, first), _start(y, first + 3))
