"""What the 发布 pages show, shaped from the news API's answers (pure; no nameko): items by
status, the month's publicity plan as a calendar, the comment queue with its deadlines, the
form values the API expects."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.console import present

STATUS_TABS = (
    ("all", ()), ("draft", ("draft",)), ("in_review", ("in_review",)),
    ("approved", ("approved", "scheduled")), ("published", ("published", "corrected")),
    ("retracted", ("retracted",)), ("rejected", ("rejected",)), ("expired", ("expired",)),
)
EDITABLE = ("draft", "approved", "scheduled")
EMBARGOABLE = ("draft", "in_review", "approved", "scheduled")
LIVE = ("published", "corrected")
SENIOR = ("section_head", "leader_in_charge", "principal", "admin")


def tab_statuses(tab: str) -> tuple[str, ...]:
    return dict(STATUS_TABS).get(tab, ())


def actions(item: dict[str, Any], role: str | None) -> dict[str, bool]:
    """Which forms the item page offers (the API still decides; these only avoid offering
    what it would certainly refuse)."""
    status = item.get("status")
    senior = role in SENIOR
    return {"edit": status in EDITABLE, "submit": status == "draft",
            "embargo": senior and status in EMBARGOABLE,
            "correct": senior and status in LIVE,
            "retract": senior and status in LIVE}


def office_iso(value: str, tz: str) -> str | None:
    """A `datetime-local` form value, read in the office's time zone, as an aware ISO string;
    None for an empty value. ValueError for a malformed one."""
    value = (value or "").strip()
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(tz)).isoformat()


def office_input(value: str | None, tz: str) -> str:
    """An ISO time as a `datetime-local` value in the office's time zone."""
    when = present.parse(value)
    return "" if when is None else when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def month_of(value: str | None, today: date) -> str:
    """`YYYY-MM` from the query, or this month."""
    if value and len(value) == 7 and value[4] == "-":
        try:
            year, month = int(value[:4]), int(value[5:])
            if 1 <= month <= 12 and 2000 <= year <= 2100:
                return value
        except ValueError:
            pass
    return f"{today.year:04d}-{today.month:02d}"


def neighbour_months(month: str) -> tuple[str, str]:
    year, mon = int(month[:4]), int(month[5:])
    prev = f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"
    nxt = f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"
    return prev, nxt


def month_grid(month: str, plan: dict[str, Any], today: date) -> list[list[dict[str, Any]]]:
    """Weeks (Monday first) of day cells, each with the plan entries due that day."""
    year, mon = int(month[:4]), int(month[5:])
    by_day: dict[str, list[dict[str, Any]]] = {}
    for theme in plan.get("themes", []):
        for e in theme.get("entries", []):
            by_day.setdefault(str(e.get("due_on"))[:10], []).append(
                {**e, "theme": theme.get("title", "")})
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, mon):
        weeks.append([{"day": d.day, "date": d.isoformat(), "in_month": d.month == mon,
                       "today": d == today, "entries": by_day.get(d.isoformat(), [])}
                      for d in week])
    return weeks


def comment_rows(comments: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Each comment with its reply deadline's countdown (red once overdue)."""
    return [{**c, "countdown": present.countdown(c.get("reply_due_at"), now,
                                                 met=bool(c.get("replied_at")))}
            for c in comments]


def revision_pairs(item: dict[str, Any], number: int | None) -> tuple[dict[str, Any] | None,
                                                                         dict[str, Any] | None]:
    """(shown, previous): the revision to show (default: the current one) and the one
    before it."""
    revisions = item.get("revisions") or []
    if not revisions:
        return None, None
    shown = next((r for r in revisions if r.get("number") == number), revisions[-1])
    earlier = [r for r in revisions if r.get("number", 0) < shown.get("number", 0)]
    return shown, (earlier[-1] if earlier else None)
