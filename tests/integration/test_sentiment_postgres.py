"""The PostgreSQL paths of ingestion (unnest bulk inserts, story matching in SQL, row locks)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.sentiment import config, db, domain, handlers
from services.sentiment.schemas import validate_batch
from tests.conftest import make_uow

pytestmark = pytest.mark.integration
CFG = config.load()
NOW = datetime(2026, 11, 27, 8, 0, 30, tzinfo=UTC)
ORIGINAL = "人大代表信箱回复敷衍，反映的噪音问题一直没人管，太失望了"


def batch(items):
    valid, rejected = validate_batch(items, CFG.channels)
    assert rejected == []
    return valid


def test_reposts_duplicates_and_a_burst_on_postgres(pg_database):
    uow = make_uow("sentiment", pg_database)
    first = batch([{"source": "weibo", "channel": "weibo", "external_id": "o", "author": "@a",
                    "text": ORIGINAL, "reposts": 3}] +
                  [{"source": "weibo", "channel": "weibo", "external_id": f"r{i}",
                    "text": f"//@用户{i}: {ORIGINAL}"} for i in range(11)] +
                  [{"source": "wechat", "channel": "wechat_comment", "external_id": "x",
                    "text": "预算草案公开透明，点赞"}])
    out = handlers.ingest(uow(), first, cfg=CFG, scorer=domain.LexiconScorer(), now=NOW)
    assert out["accepted"] == 13
    assert {i["topic"] for i in out["incidents"]} >= {"deputies"}
    again = handlers.ingest(uow(), first[:5] + batch([
        {"source": "weibo", "channel": "weibo", "external_id": "late",
         "text": f"转发微博 //@某人: {ORIGINAL}"}]), cfg=CFG, scorer=domain.LexiconScorer(),
        now=NOW + timedelta(minutes=1))
    assert (again["accepted"], again["duplicates"]) == (1, 5)
    with uow() as u:
        counts = sorted(u.session.execute(select(db.stories.c.mention_count)).scalars())
        hashes = u.session.execute(select(db.mentions.c.author_hash)).scalars().all()
        buckets = u.session.execute(select(db.topic_buckets).where(
            db.topic_buckets.c.topic == "deputies")).all()
    assert counts == [1, 13]
    assert domain.pseudonymise("@a", CFG.pseudonym_key) in hashes
    assert sum(b.volume for b in buckets) == 13 and sum(b.negative for b in buckets) == 13
