"""Pure notification rules: who is told, when, how often a send is retried.

No nameko, SQLAlchemy, kombu, pika or eventlet here (import-linter checks it).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

CHANNELS = ("email", "robot", "inbox")


def dedupe_key(event_id: str, recipient: str, channel: str) -> str:
    """One delivery per event × recipient × channel: a redelivered event adds nothing."""
    return f"{event_id}|{recipient}|{channel}"


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Delay before try number `attempt + 1` after `attempt` failures: base·2^(n-1), capped."""
    if attempt < 1:
        return 0.0
    return min(cap, base * 2 ** (attempt - 1))


def parse_clock(text: str) -> time:
    """"22:00" -> time(22, 0); raises ValueError on anything else."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(local_now: datetime, start: time, end: time) -> datetime | None:
    """The end of the quiet period `local_now` falls in (same tzinfo), or None if not quiet.

    A period may wrap past midnight (22:00-07:00); start == end means no quiet hours.
    """
    if start == end:
        return None
    clock = local_now.time().replace(tzinfo=None)
    wraps = start > end
    quiet = (start <= clock or clock < end) if wraps else (start <= clock < end)
    if not quiet:
        return None
    until = local_now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local_now:
        until += timedelta(days=1)
    return until
