"""Runs the pure detector (`detection.py`) against the database: per-minute topic buckets,
persisted baselines, incident rows, and the lifecycle events with their evidence."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, desc, insert, or_, select, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, new_id
from civicpulse.serialize import aware
from services.sentiment import db, detection
from services.sentiment.detection import Baseline, Bucket, DetectorConfig, IncidentState
from services.sentiment.domain import LEVEL_NAMES
from services.sentiment.metrics import metrics

NEW_TOPIC_LOOKBACK = timedelta(days=1)
CURVE_MINUTES = 60
TOP_MENTIONS = 5
TLP = {"detected": "AMBER", "escalated": "AMBER", "subsided": "GREEN", "closed": "GREEN"}


def add_to_buckets(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Add aggregated bucket rows {topic, bucket, volume, negative, positive, weight,
    negative_weight} to the table (one multi-row upsert)."""
    if not rows:
        return
    t = db.topic_buckets
    db.bulk_insert(uow.session, t, rows, conflict=("topic", "bucket"), add_on_conflict=(
        "volume", "negative", "positive", "weight", "negative_weight"))


def detect(uow: UnitOfWork, topics: list[str], cfg: DetectorConfig, now: datetime,
           topic_name: Callable[[str], str] = str) -> list[dict[str, Any]]:
    """Evaluate each topic at `now`; record state changes and their events in `uow` (each
    event names the topic by its code and by `topic_name(code)`, its human name)."""
    if not topics:
        return []
    s = uow.session
    topics = sorted(set(topics))
    baselines = _lock_baselines(uow, topics)
    short_start, window_start = detection.windows(cfg, now)
    since = {t: min(window_start, baselines[t].folded_until or now - NEW_TOPIC_LOOKBACK)
             for t in topics}
    buckets: dict[str, list[Bucket]] = {t: [] for t in topics}
    tb = db.topic_buckets
    for r in s.execute(select(tb).where(or_(*[and_(tb.c.topic == t, tb.c.bucket >= since[t])
                                              for t in topics]))):
        buckets[r.topic].append(Bucket(aware(r.bucket), r.volume, r.negative, r.weight,
                                       r.negative_weight))
    incidents = _latest_incidents(uow, topics)
    changes = []
    for topic in topics:
        base = detection.fold(baselines[topic],
                              {b.start: b.negative for b in buckets[topic]
                               if b.start < window_start}, window_start, cfg)
        if base != baselines[topic]:
            _save_baseline(uow, topic, base)
        window = detection.Window.of(b for b in buckets[topic] if b.start >= short_start)
        long_window = detection.Window.of(b for b in buckets[topic] if b.start >= window_start)
        row = incidents.get(topic)
        state = _state(row)
        decision = detection.evaluate(window, base, state, now, cfg, long_window)
        if decision.event:
            shown = window if window.negative >= decision.threshold or decision.event not in (
                "detected", "escalated") else long_window  # the window that alerted
            changes.append(_apply(uow, topic, row, decision, shown, now, topic_name(topic)))
        elif row is not None and decision.state is not None and decision.state != state:
            s.execute(update(db.incidents).where(db.incidents.c.id == row["id"]).values(
                status_since=decision.state.since))
    return changes


def open_topics(uow: UnitOfWork) -> list[str]:
    rows = uow.session.execute(select(db.incidents.c.topic).where(
        db.incidents.c.status.in_(detection.OPEN)).distinct()).scalars().all()
    return sorted(rows)


def _latest_incidents(uow: UnitOfWork, topics: list[str]) -> dict[str, dict[str, Any]]:
    rows = uow.session.execute(select(db.incidents).where(db.incidents.c.topic.in_(topics))
                               .order_by(db.incidents.c.detected_at)).mappings().all()
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:  # the open one if any, else the last closed one (for the cool-down)
        if r["topic"] not in latest or latest[r["topic"]]["status"] == "closed":
            latest[r["topic"]] = dict(r)
    return latest


def _state(row: dict[str, Any] | None) -> IncidentState | None:
    if row is None:
        return None
    return IncidentState(row["status"], row["level"],
                         aware(row["status_since"] or row["updated_at"]),
                         aware(row["closed_at"]))


def _lock_baselines(uow: UnitOfWork, topics: list[str]) -> dict[str, Baseline]:
    """Each topic's baseline row, created if missing and locked (PostgreSQL: FOR UPDATE, in
    topic order) so that concurrent batches evaluate one topic one after the other."""
    t = db.topic_baselines
    uow.session.execute(db.upsert(uow.session, t).on_conflict_do_nothing(
        index_elements=[t.c.topic]),
        [{"topic": topic, "mean": 0.0, "var": 0.0, "minutes": 0} for topic in topics])
    rows = uow.session.execute(select(t).where(t.c.topic.in_(topics)).order_by(t.c.topic)
                               .with_for_update()).all()
    return {r.topic: Baseline(r.mean, r.var, r.minutes, aware(r.folded_until)) for r in rows}


def _save_baseline(uow: UnitOfWork, topic: str, b: Baseline) -> None:
    t = db.topic_baselines
    uow.session.execute(update(t).where(t.c.topic == topic).values(
        mean=b.mean, var=b.var, minutes=b.minutes, folded_until=b.folded_until))


def _apply(uow: UnitOfWork, topic: str, row: dict[str, Any] | None,
           d: detection.Decision, window: detection.Window, now: datetime,
           topic_name: str) -> dict[str, Any]:
    state = d.state
    assert state is not None and d.level is not None
    ratio = round(window.ratio, 3)
    if d.event == "detected":
        incident_id = f"inc-{new_id()[:12]}"
        evidence = _evidence(uow, topic, now)
        uow.session.execute(insert(db.incidents).values(
            id=incident_id, topic=topic, level=d.level, status="detected", detected_at=now,
            updated_at=now, status_since=now, peak_level=d.level, peak_negative=window.negative,
            evidence=json.dumps(evidence, ensure_ascii=False, default=str)))
        payload = {"detected_at": now.isoformat(), "negative_count": window.negative,
                   "volume": window.volume, "negative_ratio": ratio,
                   "evidence": evidence["top_mentions"], "curve": evidence["curve"],
                   "threshold": round(d.threshold, 2), "expected": round(d.expected, 2)}
    else:
        assert row is not None
        incident_id = row["id"]
        values: dict[str, Any] = {"status": state.status, "updated_at": now,
                                  "status_since": state.since}
        payload = {}
        if d.event == "escalated":
            evidence = _evidence(uow, topic, now)
            values.update(level=d.level, peak_level=d.level, evidence=json.dumps(
                evidence, ensure_ascii=False, default=str),
                peak_negative=max(row["peak_negative"] or 0, window.negative))
            payload = {"previous_level": d.previous_level, "negative_count": window.negative,
                       "volume": window.volume, "negative_ratio": ratio,
                       "evidence": evidence["top_mentions"], "curve": evidence["curve"]}
        elif d.event == "subsided":
            payload = {"negative_ratio": ratio, "negative_count": window.negative}
        elif d.event == "closed":
            values["closed_at"] = now
            payload = {"closed_at": now.isoformat(), "detected_at": aware(
                row["detected_at"]).isoformat(), "peak_level": row["peak_level"] or d.level}
        uow.session.execute(update(db.incidents).where(db.incidents.c.id == incident_id)
                            .values(**values))
    uow.session.execute(insert(db.incident_history).values(
        incident_id=incident_id, at=now, event=d.event, level=d.level, status=state.status,
        negative_count=window.negative, negative_ratio=ratio))
    uow.publish(new_event(f"sentiment.incident.{d.event}", {
        "incident_id": incident_id, "topic": topic, "topic_name": topic_name,
        "level": d.level, "level_name": LEVEL_NAMES[d.level], **payload},
        correlation_id=incident_id, tlp=TLP[d.event or "detected"]))
    metrics().incident_events.labels(d.event).inc()
    return {"incident_id": incident_id, "topic": topic, "level": d.level,
            "status": state.status, "event": d.event}


def _evidence(uow: UnitOfWork, topic: str, now: datetime) -> dict[str, Any]:
    """Top negative mentions by reach in the last hour, and the per-minute sentiment curve."""
    since = now - timedelta(minutes=CURVE_MINUTES)
    m, mt = db.mentions, db.mention_topics
    top = uow.session.execute(
        select(m.c.id, m.c.source, m.c.channel, m.c.external_id, m.c.url, m.c.text, m.c.reach,
               m.c.score, m.c.published_at, m.c.story_id)
        .join(mt, mt.c.mention_id == m.c.id)
        .where(mt.c.topic == topic, mt.c.published_at >= since, mt.c.label == "negative")
        .order_by(desc(m.c.reach), desc(m.c.id)).limit(TOP_MENTIONS)).mappings().all()
    tb = db.topic_buckets
    curve = uow.session.execute(select(tb).where(tb.c.topic == topic, tb.c.bucket >= since)
                                .order_by(tb.c.bucket)).all()
    return {
        "top_mentions": [{"mention_id": r["id"], "source": r["source"], "channel": r["channel"],
                          "external_id": r["external_id"], "url": r["url"],
                          "excerpt": (r["text"] or "")[:140], "reach": r["reach"],
                          "score": round(r["score"], 3), "story_id": r["story_id"],
                          "published_at": str(r["published_at"])} for r in top],
        "curve": [{"minute": aware(r.bucket).isoformat(), "volume": r.volume,
                   "negative": r.negative, "positive": r.positive,
                   "negative_ratio": round(r.negative_weight / r.weight, 3) if r.weight else 0.0}
                  for r in curve],
    }
