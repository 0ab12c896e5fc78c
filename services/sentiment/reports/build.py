"""The digest of one period: volume and sentiment per topic and channel, incidents and how they
ended. Built from `topic_buckets` and the incident rows, so it survives the raw-text purge."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from civicpulse.db import UnitOfWork
from civicpulse.serialize import aware
from services.sentiment import db
from services.sentiment.domain import LEVEL_NAMES

ALL = "*"  # handlers.ALL: every mention once


def period(kind: str, value: str | None, today: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) of `daily` (YYYY-MM-DD) or `weekly` (YYYY-Www or a date in the week)."""
    today = today or datetime.now(UTC).date()
    if kind == "daily":
        day = date.fromisoformat(value) if value else today
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    if kind != "weekly":
        raise ValueError(f"unknown period {kind!r}")
    if value and "W" in value.upper():
        year, _, week = value.upper().partition("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    else:
        day = date.fromisoformat(value) if value else today
        monday = day - timedelta(days=day.weekday())
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)


def build(uow: UnitOfWork, kind: str, value: str | None = None) -> dict[str, Any]:
    start, end = period(kind, value)
    step = timedelta(hours=1) if kind == "daily" else timedelta(days=1)
    tb = db.topic_buckets
    with uow:
        rows = uow.session.execute(select(tb).where(tb.c.bucket >= start, tb.c.bucket < end)).all()
        m = db.mentions.c
        channels = uow.session.execute(
            select(m.channel, func.count(), func.sum((m.label == "negative").cast(db.Integer)))
            .where(m.published_at >= start, m.published_at < end).group_by(m.channel)).all()
        i = db.incidents.c
        incidents = uow.session.execute(select(db.incidents).where(
            i.detected_at < end, or_(i.closed_at.is_(None), i.closed_at >= start))
            .order_by(i.detected_at)).mappings().all()
    topics: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    series: dict[str, list[int]] = {"volume": [0] * int((end - start) / step),
                                    "negative": [0] * int((end - start) / step)}
    for r in rows:
        if r.topic != ALL:
            t = topics[r.topic]
            for k in ("volume", "negative", "positive", "weight", "negative_weight"):
                t[k] += getattr(r, k)
            continue
        slot = int((aware(r.bucket) - start) / step)
        series["volume"][slot] += r.volume
        series["negative"][slot] += r.negative
    topic_list = sorted(({
        "topic": name, "volume": int(t["volume"]), "negative": int(t["negative"]),
        "positive": int(t["positive"]),
        "neutral": int(t["volume"] - t["negative"] - t["positive"]),
        "negative_ratio": round(t["negative"] / t["volume"], 3) if t["volume"] else 0.0,
        "negative_ratio_by_reach": round(t["negative_weight"] / t["weight"], 3)
        if t["weight"] else 0.0} for name, t in topics.items()),
        key=lambda x: (-x["volume"], x["topic"]))
    return {
        "period": kind, "start": start.isoformat(), "end": end.isoformat(),
        "step": "hour" if kind == "daily" else "day",
        "totals": {"mentions": sum(c[1] for c in channels),
                   "negative": int(sum(c[2] or 0 for c in channels))},
        "channels": [{"channel": c[0], "volume": c[1], "negative": int(c[2] or 0)}
                     for c in sorted(channels, key=lambda c: -c[1])],
        "topics": topic_list,
        "series": series,
        "incidents": [_incident(r, end) for r in incidents],
    }


def _incident(r: Any, end: datetime) -> dict[str, Any]:
    closed = aware(r["closed_at"])
    detected = aware(r["detected_at"])
    outcome = ("closed" if closed and closed < end else
               "subsiding" if r["status"] == "subsiding" else "open")
    return {"incident_id": r["id"], "topic": r["topic"], "level": r["level"],
            "level_name": LEVEL_NAMES.get(r["level"], ""),
            "peak_level": r["peak_level"] or r["level"], "status": r["status"],
            "outcome": outcome, "detected_at": detected.isoformat(),
            "closed_at": closed.isoformat() if closed else None,
            "duration_minutes": round((closed - detected).total_seconds() / 60)
            if closed else None, "peak_negative": r["peak_negative"]}
