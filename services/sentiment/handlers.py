"""Sentiment use cases: ingest a batch, detect bursts, notice when incidents subside."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, new_id, utcnow
from services.sentiment import db, domain


def ingest(uow: UnitOfWork, mentions: list[dict[str, Any]], *, topics: dict[str, list[str]],
           rule: domain.DetectionRule, key: bytes) -> dict[str, Any]:
    """Store new mentions (exact duplicates dropped), then run detection on touched topics."""
    accepted, duplicates = 0, 0
    touched: set[str] = set()
    now = utcnow()
    with uow:
        for m in mentions:
            row_id = _insert_mention(uow, m, now, key)
            if row_id is None:
                duplicates += 1
                continue
            accepted += 1
            p = domain.score(m["text"])
            for topic in domain.topics_of(m["text"], topics):
                uow.session.execute(insert(db.mention_topics).values(
                    mention_id=row_id, topic=topic, label=domain.label(p),
                    published_at=m.get("published_at") or now))
                touched.add(topic)
        events = [detect(uow, topic, rule, now) for topic in sorted(touched)]
        uow.commit()
    return {"accepted": accepted, "duplicates": duplicates,
            "incidents": [e for e in events if e]}


def _insert_mention(uow: UnitOfWork, m: dict[str, Any], now: datetime, key: bytes) -> int | None:
    exists = uow.session.execute(select(db.mentions.c.id).where(
        db.mentions.c.source == m["source"], db.mentions.c.external_id == m["external_id"]
    )).first()
    if exists:
        return None
    p = domain.score(m["text"])
    try:
        with uow.session.begin_nested():
            result = uow.session.execute(insert(db.mentions).values(
                source=m["source"], external_id=m["external_id"], channel=m["channel"],
                author_hash=domain.pseudonymise(m["author"], key) if m.get("author") else None,
                text=m["text"], published_at=m.get("published_at") or now, ingested_at=now,
                reach=m.get("reach", 0), score=p, label=domain.label(p)))
    except IntegrityError:
        return None
    return int(result.inserted_primary_key[0])


def detect(uow: UnitOfWork, topic: str, rule: domain.DetectionRule, now: datetime
           ) -> dict[str, Any] | None:
    """Apply the burst rule to one topic's window; record detected/escalated events."""
    negative, volume = db.window_counts(uow.session, topic,
                                        now - timedelta(minutes=rule.window_minutes))
    level = rule.level_for(negative, volume)
    if level is None:
        return None
    current = db.open_incident(uow.session, topic)
    if current is None:
        incident_id = f"inc-{new_id()[:12]}"
        uow.session.execute(insert(db.incidents).values(
            id=incident_id, topic=topic, level=level, status="detected", detected_at=now,
            updated_at=now))
        uow.publish(new_event("sentiment.incident.detected", {
            "incident_id": incident_id, "topic": topic, "level": level,
            "detected_at": now.isoformat(), "negative_count": negative, "volume": volume,
            "negative_ratio": round(negative / volume, 3),
        }, correlation_id=incident_id, tlp="AMBER"))
        return {"incident_id": incident_id, "topic": topic, "level": level, "status": "detected"}
    if domain.is_higher(level, current["level"]):
        uow.session.execute(update(db.incidents).where(db.incidents.c.id == current["id"])
                            .values(level=level, status="escalated", updated_at=now))
        uow.publish(new_event("sentiment.incident.escalated", {
            "incident_id": current["id"], "topic": topic, "level": level,
            "previous_level": current["level"]}, correlation_id=current["id"], tlp="AMBER"))
        return {"incident_id": current["id"], "topic": topic, "level": level,
                "status": "escalated"}
    return None


def sweep_subsided(uow: UnitOfWork, rule: domain.DetectionRule) -> int:
    """Mark open incidents whose window has calmed down as subsiding; emit the event."""
    now = utcnow()
    count = 0
    with uow:
        rows = uow.session.execute(select(db.incidents).where(
            db.incidents.c.status.in_(("detected", "escalated")))).mappings().all()
        for inc in rows:
            negative, volume = db.window_counts(
                uow.session, inc["topic"], now - timedelta(minutes=rule.window_minutes))
            if not rule.subsided(negative, volume):
                continue
            uow.session.execute(update(db.incidents).where(db.incidents.c.id == inc["id"])
                                .values(status="subsiding", updated_at=now))
            uow.publish(new_event("sentiment.incident.subsided", {
                "incident_id": inc["id"], "topic": inc["topic"], "level": inc["level"],
                "negative_ratio": round(negative / volume, 3) if volume else 0.0,
            }, correlation_id=inc["id"], tlp="GREEN"))
            count += 1
        uow.commit()
    return count


def list_incidents(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.execute(select(db.incidents).order_by(
            db.incidents.c.detected_at.desc())).mappings().all()
        return [dict(r) for r in rows]
