"""Sentiment use cases: ingest a batch, sweep incidents, purge expired raw text, list incidents.

Every ingestion path (HTTP, AMQP work queue, file import, feeds) ends in `ingest()`: one unit of
work per batch, a few multi-row statements (exact duplicates found in one query, one INSERT of
the new mentions, one of their topics, one upsert of the per-minute topic buckets), then the
detector on the topics the batch touched.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, tuple_, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from civicpulse.outbox import purge_sent
from civicpulse.pseudonyms import url_identity
from services.sentiment import db, detection, domain, feeds, incident_tracking, stories
from services.sentiment.config import SentimentConfig
from services.sentiment.metrics import metrics
from services.sentiment.schemas import MAX_BATCH, reject_reason, validate_batch

log = logging.getLogger(__name__)
ALL = "*"  # the pseudo-topic of every mention, for digests (each mention counted once)


def ingest_raw(uow: UnitOfWork, items: list[Any], *, cfg: SentimentConfig,
               scorer: domain.Scorer, path: str, collector: str | None = None
               ) -> dict[str, Any]:
    """Validate raw items (per-item errors, counted by reason) and ingest the valid ones
    (recording the `collector` that sent them):
    `{accepted, duplicates, incidents, rejected: [{index, errors}]}`."""
    valid, rejected = validate_batch(items, cfg.channels)
    for r in rejected:
        metrics().rejected.labels(path, reject_reason(r["errors"])).inc()
    summary = ingest(uow, valid, cfg=cfg, scorer=scorer, collector=collector) if valid else {
        "accepted": 0, "duplicates": 0, "incidents": []}
    return {**summary, "rejected": rejected}


def ingest(uow: UnitOfWork, mentions: list[dict[str, Any]], *, cfg: SentimentConfig,
           scorer: domain.Scorer, now: datetime | None = None,
           collector: str | None = None) -> dict[str, Any]:
    """Store new mentions (exact duplicates dropped, reposts grouped into stories), then run
    detection on the topics they touched. Mentions are validated already (`schemas`)."""
    now = now or utcnow()
    started = time.perf_counter()
    m = metrics()
    batch = list({(x["source"], x["external_id"]): x for x in mentions}.values())
    with uow:
        existing = _existing(uow, batch)
        fresh = [x for x in batch if (x["source"], x["external_id"]) not in existing]
        inserted = _store(uow, fresh, cfg, scorer, now, collector) if fresh else []
        touched = _aggregate(uow, inserted, cfg, now)
        events = incident_tracking.detect(uow, touched, cfg.detector, now, cfg.topic_name)
        uow.commit()
    duplicates = len(mentions) - len(inserted)
    m.duplicates.inc(duplicates)
    for (source, channel), n in Counter((x["source"], x["channel"]) for x in inserted).items():
        m.ingested.labels(source, channel).inc(n)
    for x in inserted:
        if x["published_at"] <= now:
            m.detector_lag.observe((now - x["published_at"]).total_seconds())
    m.batch_seconds.observe(time.perf_counter() - started)
    return {"accepted": len(inserted), "duplicates": duplicates,
            "incidents": [e for e in events if e["event"] in ("detected", "escalated")]}


def _existing(uow: UnitOfWork, batch: list[dict[str, Any]]) -> set[tuple[str, str]]:
    if not batch:
        return set()
    c = db.mentions.c
    keys = [(x["source"], x["external_id"]) for x in batch]
    if uow.session.get_bind().dialect.name == "postgresql":
        rows = uow.session.execute(text(
            "SELECT m.source, m.external_id FROM mentions m JOIN unnest("
            "CAST(:s AS text[]), CAST(:e AS text[])) AS k(source, external_id) "
            "ON m.source = k.source AND m.external_id = k.external_id"),
            {"s": [k[0] for k in keys], "e": [k[1] for k in keys]})
    else:
        rows = uow.session.execute(select(c.source, c.external_id).where(
            tuple_(c.source, c.external_id).in_(keys)))
    return {(r.source, r.external_id) for r in rows}


def _store(uow: UnitOfWork, fresh: list[dict[str, Any]], cfg: SentimentConfig,
           scorer: domain.Scorer, now: datetime, collector: str | None
           ) -> list[dict[str, Any]]:
    texts = [x["text"] for x in fresh]
    t0 = time.perf_counter()
    probs = scorer.predict_proba(texts)
    metrics().scoring_seconds.observe(time.perf_counter() - t0)
    story_ids, reposts = stories.assign(uow.session, domain.simhashes(texts), now)
    metrics().near_duplicates.inc(reposts)
    rows = []
    for x, p, sid in zip(fresh, probs, story_ids, strict=True):
        x["published_at"] = x.get("published_at") or now
        x["score"], x["label"], x["story_id"] = float(p), domain.label(p), sid
        rows.append({
            "source": x["source"], "external_id": x["external_id"], "channel": x["channel"],
            "author_hash": domain.pseudonymise(x["author"], cfg.pseudonym_key)
            if x.get("author") else None,
            "text": x["text"], "url": x.get("url"), "published_at": x["published_at"],
            "ingested_at": now, "reach": x["reach"], "reposts": x["reposts"],
            "likes": x["likes"], "comments": x["comments"], "score": x["score"],
            "label": x["label"], "story_id": sid, "collector": collector})
    result = db.bulk_insert(uow.session, db.mentions, rows, conflict=("source", "external_id"),
                            returning=("id", "source", "external_id"))
    ids = {(r.source, r.external_id): int(r.id) for r in result}
    out = []
    for x in fresh:  # a concurrent batch may have stored some of these meanwhile
        key = (x["source"], x["external_id"])
        if key in ids:
            x["id"] = ids[key]
            out.append(x)
    return out


def _aggregate(uow: UnitOfWork, inserted: list[dict[str, Any]], cfg: SentimentConfig,
               now: datetime) -> list[str]:
    """Topic rows and per-minute bucket sums of the stored mentions; the topics whose current
    window they fall in (older mentions only update the aggregates)."""
    topic_rows = []
    sums: dict[tuple[str, datetime], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0.0])
    window_start = detection.windows(cfg.detector, now)[1]
    touched: set[str] = set()
    for x in inserted:
        neg = x["label"] == "negative"
        w = detection.reach_weight(x["reach"])
        bucket = detection.bucket_of(x["published_at"])
        for topic in [ALL, *domain.topics_of(x["text"], cfg.topics)]:
            s = sums[(topic, bucket)]
            s[0] += 1
            s[1] += neg
            s[2] += x["label"] == "positive"
            s[3] += w
            s[4] += w if neg else 0.0
            if topic == ALL:
                continue
            topic_rows.append({"mention_id": x["id"], "topic": topic, "label": x["label"],
                               "published_at": x["published_at"]})
            if window_start <= bucket <= now:
                touched.add(topic)
    if topic_rows:
        db.bulk_insert(uow.session, db.mention_topics, topic_rows,
                       conflict=("mention_id", "topic"))
    incident_tracking.add_to_buckets(uow, [
        {"topic": t, "bucket": b, "volume": int(v[0]), "negative": int(v[1]),
         "positive": int(v[2]), "weight": v[3], "negative_weight": v[4]}
        for (t, b), v in sorted(sums.items())])  # one lock order for concurrent batches
    return sorted(touched)


def poll_feeds(new_uow: Callable[[], UnitOfWork], cfg: SentimentConfig, scorer: domain.Scorer
               ) -> dict[str, int]:
    """Fetch every configured feed and ingest its entries; mentions accepted per feed (an
    unreadable feed is logged and skipped; exact duplicates make re-polling harmless)."""
    accepted: dict[str, int] = {}
    for name, feed in cfg.feeds.items():
        try:
            items = feeds.fetch(name, feed["url"], feed["channel"])
        except feeds.FeedError as exc:
            log.warning("feed %s: %s", name, exc)
            continue
        accepted[name] = 0
        for i in range(0, len(items), MAX_BATCH):
            out = ingest_raw(new_uow(), items[i:i + MAX_BATCH], cfg=cfg, scorer=scorer,
                             path="feed")
            accepted[name] += out["accepted"]
    return accepted


def sweep(uow: UnitOfWork, cfg: SentimentConfig, now: datetime | None = None
          ) -> list[dict[str, Any]]:
    """Re-evaluate topics with an open incident (they subside and close without new mentions)."""
    now = now or utcnow()
    with uow:
        events = incident_tracking.detect(uow, incident_tracking.open_topics(uow),
                                          cfg.detector, now, cfg.topic_name)
        uow.commit()
    return events


def purge_expired(uow: UnitOfWork, retention_days: int, now: datetime | None = None) -> int:
    """Drop the raw text, URL and author pseudonym of mentions older than the retention period.
    Scores, labels, topics, stories and the per-minute aggregates stay."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    with uow:
        result = uow.session.execute(update(db.mentions).where(
            db.mentions.c.published_at < cutoff, db.mentions.c.purged_at.is_(None)).values(
            text=None, url=None, author_hash=None, purged_at=now or utcnow()))
        _purge_url_ids(uow, cutoff)
        _purge_evidence(uow, cutoff)
        purge_sent(uow.session, cutoff)  # sent events carry excerpts and URLs too
        uow.commit()
    metrics().purged.inc(result.rowcount or 0)
    return int(result.rowcount or 0)


def _purge_url_ids(uow: UnitOfWork, cutoff: datetime) -> None:
    """Mentions stored before ids were hashed kept their URL as `external_id`."""
    m = db.mentions.c
    for row in uow.session.execute(select(m.id, m.external_id).where(
            m.published_at < cutoff, m.external_id.like("http%://%"))).all():
        uow.session.execute(update(db.mentions).where(m.id == row.id).values(
            external_id="purged-" + url_identity(row.external_id)))


def _purge_evidence(uow: UnitOfWork, cutoff: datetime) -> None:
    """Excerpts and URLs in the evidence of incidents older than the retention period go too."""
    i = db.incidents.c
    for row in uow.session.execute(select(i.id, i.evidence).where(
            i.detected_at < cutoff, i.evidence.is_not(None))).all():
        evidence = json.loads(row.evidence)
        tops = evidence.get("top_mentions", [])
        if not any(m.get("excerpt") or m.get("url") for m in tops):
            continue
        for m in tops:
            m["excerpt"], m["url"] = "", None
        uow.session.execute(update(db.incidents).where(i.id == row.id).values(
            evidence=json.dumps(evidence, ensure_ascii=False)))


def list_incidents(uow: UnitOfWork, status: str | None = None, *, level: str | None = None,
                   evidence: bool = True, limit: int | None = None, offset: int = 0
                   ) -> list[dict[str, Any]]:
    """Newest first; `status` one or several joined by commas; `evidence=False` leaves the
    (large) evidence out of each row; one page when `limit` is given."""
    i = db.incidents.c
    columns = [c for c in db.incidents.c if evidence or c.name != "evidence"]
    with uow:
        q = (select(*columns).where(*_filters(status, level))
             .order_by(i.detected_at.desc(), i.id).offset(offset))
        if limit:
            q = q.limit(limit)
        rows = uow.session.execute(q).mappings().all()
        if not evidence:
            return [dict(r) for r in rows]
        return [{**r, "evidence": json.loads(r["evidence"]) if r["evidence"] else None}
                for r in rows]


def count_incidents(uow: UnitOfWork, status: str | None = None, level: str | None = None
                    ) -> dict[str, int]:
    """level → how many incidents have `status` (one or several joined by commas)."""
    i = db.incidents.c
    with uow:
        rows = uow.session.execute(select(i.level, func.count()).where(*_filters(status, level))
                                   .group_by(i.level)).all()
    return {level: n for level, n in rows}


def _filters(status: str | None, level: str | None) -> list[Any]:
    i = db.incidents.c
    return ([i.status.in_(status.split(","))] if status else []) + \
        ([i.level == level] if level else [])


class IncidentNotFound(LookupError):
    """No incident has that id."""


def get_incident(uow: UnitOfWork, incident_id: str) -> dict[str, Any]:
    """One incident with its evidence and its history (every lifecycle event with its level)."""
    with uow:
        row = uow.session.execute(select(db.incidents).where(
            db.incidents.c.id == incident_id)).mappings().first()
        if row is None:
            raise IncidentNotFound(incident_id)
        h = db.incident_history.c
        history = uow.session.execute(select(h.at, h.event, h.level, h.status, h.negative_count,
                                             h.negative_ratio)
                                      .where(h.incident_id == incident_id)
                                      .order_by(h.at, h.id)).mappings().all()
    return {**row, "evidence": json.loads(row["evidence"]) if row["evidence"] else None,
            "history": [dict(r) for r in history]}


def refresh_open_gauge(uow: UnitOfWork) -> None:
    with uow:
        rows = uow.session.execute(select(db.incidents.c.level).where(
            db.incidents.c.status.in_(detection.OPEN))).scalars().all()
    for level in domain.LEVEL_ORDER:
        metrics().open_incidents.labels(level).set(sum(1 for r in rows if r == level))
