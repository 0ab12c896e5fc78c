"""Datetimes and rows made ready for JSON, the same way in every service.

The databases store UTC. SQLite (the embedded mode and the unit tests) hands datetimes back
naive, PostgreSQL hands them back aware; `aware` makes both aware, `iso` writes RFC 3339 with the
UTC offset kept, and `jsonable` does that for every value of a row:

    >>> from datetime import datetime, date
    >>> iso(datetime(2026, 5, 1, 8, 30))
    '2026-05-01T08:30:00+00:00'
    >>> jsonable({"id": "x", "at": datetime(2026, 5, 1), "day": date(2026, 5, 1), "n": None})
    {'id': 'x', 'at': '2026-05-01T00:00:00+00:00', 'day': '2026-05-01', 'n': None}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any, overload

__all__ = ["aware", "iso", "jsonable"]


@overload
def aware(value: datetime) -> datetime: ...


@overload
def aware(value: None) -> None: ...


def aware(value: datetime | None) -> datetime | None:
    """`value` with a time zone: a naive datetime is taken as UTC (how every service stores it)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def iso(value: Any) -> Any:
    """A datetime as RFC 3339 (naive taken as UTC), a date or time as ISO 8601; else unchanged."""
    if isinstance(value, datetime):
        return aware(value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def jsonable(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row (a dict or a SQLAlchemy mapping) with its datetimes, dates and times made `iso`."""
    return {key: iso(value) for key, value in row.items()}
