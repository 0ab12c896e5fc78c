"""How values look on a page: times in the office's time zone, deadline countdowns, the
services' codes in Chinese. Pure functions, registered as Jinja2 filters by `templates.py`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.console import messages

WEEKDAYS = "一二三四五六日"


def parse(value: str | datetime | None) -> datetime | None:
    """An aware datetime from the APIs' ISO strings (None stays None; naive means UTC)."""
    if value is None or value == "":
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("UTC"))
    return when


def local_time(value: str | datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    when = parse(value)
    return "" if when is None else when.astimezone(ZoneInfo(tz)).strftime(fmt)


def short_time(value: str | datetime | None, tz: str, now: datetime) -> str:
    """`14:05` today, `11月28日 14:05` otherwise (office time)."""
    when = parse(value)
    if when is None:
        return ""
    local, today = when.astimezone(ZoneInfo(tz)), now.astimezone(ZoneInfo(tz))
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def duration(delta: timedelta) -> str:
    """`2天3小时`, `1小时5分`, `12分`, `不到1分钟`."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分" if mins else f"{hours}小时"
    return f"{mins}分钟" if mins else "不到1分钟"


def countdown(due: str | datetime | None, now: datetime, met: bool = False) -> dict[str, str]:
    """What a deadline shows: text and a css class (`overdue` in red, `soon` within an hour)."""
    when = parse(due)
    if when is None:
        return {"text": "无时限", "css": "none"}
    if met:
        return {"text": "已完成", "css": "met"}
    left = when - now
    if left.total_seconds() < 0:
        return {"text": f"已逾期 {duration(left)}", "css": "overdue"}
    return {"text": f"剩余 {duration(left)}", "css": "soon" if left < timedelta(hours=1) else "ok"}


def label(mapping: str, code: str | None) -> str:
    """A code in Chinese (`status`, `level`, `role`, `tlp`, `stage`, `deadline`); an unknown code
    is shown as it is."""
    table = getattr(messages, mapping.upper())
    return table.get(code or "", code or "")
