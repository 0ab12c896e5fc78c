"""Retention that really forgets: after the purge, nothing that identifies a person or quotes
them survives in any table of sentiment or news (mentions' text, URL and author pseudonym,
URL-only mentions' ids, incident evidence, sent outbox events; comments' text, reply and
commenter). Dead-letter expiry is a broker policy: tests/integration/test_deploy.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import MetaData, select, update

from civicpulse.db import UnitOfWork
from civicpulse.tables import outbox_table
from services.news import config as news_config
from services.news import interaction
from services.sentiment import config, db, domain, handlers
from services.sentiment.schemas import validate_batch

NOW = datetime(2026, 11, 27, 8, 0, 30, tzinfo=UTC)
OLD = NOW - timedelta(days=100)
HANDLE = "@zhang-san-1985"
URL = "https://weibo.example/zhangsan1985/status/4711"
SAID = "住在幸福小区的张三说投诉三次了还是推诿，不作为，愤怒"


def everything(uow: UnitOfWork) -> str:
    """Every row of every table, as text."""
    with uow as u:
        meta = MetaData()
        meta.reflect(bind=u.session.get_bind())
        return json.dumps([[dict(r) for r in u.session.execute(select(t)).mappings()]
                           for t in meta.sorted_tables], ensure_ascii=False, default=str)


def test_nothing_identifying_survives_the_sentiment_purge(
        uow_factory: Callable[[str], Callable[[], UnitOfWork]]) -> None:
    uow = uow_factory("sentiment")
    cfg = config.load()
    burst = validate_batch([{"source": "weibo", "channel": "weibo", "url": f"{URL}{i}",
                             "author": f"{HANDLE}{i}", "text": f"#幸福小区# {SAID} {i}",
                             "reposts": i, "published_at": OLD.isoformat()} for i in range(12)],
                           cfg.channels)[0]
    out = handlers.ingest(uow(), burst, cfg=cfg, scorer=domain.LexiconScorer(), now=OLD)
    assert out["accepted"] == 12 and out["incidents"], "an incident with evidence back then"
    with uow() as u:  # the relay sent the events back then
        u.session.execute(update(outbox_table).values(sent_at=OLD))
        u.commit()
    before = everything(uow())
    with uow() as u:
        ids = u.session.execute(select(db.mentions.c.external_id)).scalars().all()
    assert len(ids) == 12 and not any("weibo.example" in i for i in ids), "ids keep no URL"
    assert SAID in before and URL in before, "seeded: text and URLs are there before"
    assert HANDLE not in before, "authors are pseudonymised on the way in"

    handlers.purge_expired(uow(), cfg.retention_days, NOW)
    after = everything(uow())
    for secret in (SAID, URL, "幸福小区# ", "weibo.example"):
        assert secret not in after, secret
    pseudonyms = {domain.pseudonymise(f"{HANDLE}{i}", cfg.pseudonym_key) for i in range(12)}
    assert not any(p in after for p in pseudonyms)


def test_comments_are_pseudonymised_and_forgotten(
        uow_factory: Callable[[str], Callable[[], UnitOfWork]]) -> None:
    uow = uow_factory("news")
    cfg = news_config.load()
    phone = "我的电话13800000000，请回电"
    batch: list[dict[str, Any]] = [{"channel": "wechat", "external_id": "c1", "author": HANDLE,
                                    "text": phone, "received_at": OLD}]
    assert interaction.receive_comments(uow(), batch, cfg)["accepted"] == 1
    stored = everything(uow())
    assert HANDLE not in stored and phone in stored
    [comment] = interaction.list_comments(uow(), "awaiting", OLD + timedelta(hours=1))
    interaction.reply(uow(), comment["id"], f"已联系{HANDLE}", "editor-li", now=OLD)

    assert interaction.purge_comments(uow(), cfg.comment_retention_days, NOW) == 1
    after = everything(uow())
    for secret in (HANDLE, phone, comment["author"], "13800000000"):
        assert secret not in after, secret
    assert interaction.purge_comments(uow(), cfg.comment_retention_days, NOW) == 0


@pytest.mark.parametrize("url", [URL, URL + "?from=feed"])
def test_a_url_only_mention_keeps_no_url(url: str) -> None:
    [m], _ = validate_batch([{"source": "web", "url": url, "text": "x"}], None)
    assert url not in m["external_id"] and m["external_id"].startswith("url-sha256:")
