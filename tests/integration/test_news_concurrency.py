"""news under real concurrency (OS processes on PostgreSQL, released together): several
workers finishing deliveries of one item emit `news.item.published` once; concurrent expiry
sweeps notify an owner once and expire an item once."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from civicpulse.envelope import new_event, utcnow
from civicpulse.tables import outbox_table
from services.news import config, db, items, review_outcomes
from tests.concurrency import run_at_once
from tests.conftest import make_uow

pytestmark = pytest.mark.integration
ARTICLE = {"kind": "article", "title": "市人大常委会开展食品安全法执法检查",
           "body": "3月2日，执法检查组深入企业调研。", "column": "人大工作进行时",
           "author": "editor-zhou"}

# Each process takes one delivery (a loop of one-delivery passes: a pass that lost the race for
# the first due row finds the next one); its channel waits until every process is sending, so
# all of them record their success at the same moment.
DELIVER = """
import os, time
from pathlib import Path
from civicpulse.db import UnitOfWork, make_engine, session_factory
from services.news import config, queue

BARRIER = Path({barrier!r})

class Gate:
    def send(self, item, action, context, key):
        (BARRIER / str(os.getpid())).touch()
        deadline = time.monotonic() + 10
        while len(list(BARRIER.iterdir())) < {n} and time.monotonic() < deadline:
            time.sleep(0.002)
        return "https://example.test/" + key

def work():
    uow = UnitOfWork(session_factory(make_engine({url!r})), "news")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counts = queue.deliver_due(uow, config.load(), limit=1, channel_for=lambda _: Gate())
        if counts["success"]:
            return counts
        time.sleep(0.01)
    return counts
"""

# Each process sweeps at `now` (the owner is due a notice), meets the others at a barrier, then
# sweeps at `later` (the grace period is over: the item expires).
SWEEP = """
import os, time
from datetime import datetime
from pathlib import Path
from civicpulse.db import UnitOfWork, make_engine, session_factory
from services.news import config, sweep

BARRIER = Path({barrier!r})

def work():
    uow = UnitOfWork(session_factory(make_engine({url!r})), "news")
    first = sweep.sweep(uow, config.load(), now=datetime.fromisoformat({now!r}))
    (BARRIER / str(os.getpid())).touch()
    deadline = time.monotonic() + 30
    while len(list(BARRIER.iterdir())) < {n} and time.monotonic() < deadline:
        time.sleep(0.002)
    second = sweep.sweep(uow, config.load(), now=datetime.fromisoformat({later!r}))
    return [first, second]
"""


@pytest.fixture
def news(pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    for channel in ("WEBHOOK", "WECHAT"):  # three channels: website, wechat, webhook
        monkeypatch.setenv(f"NEWS_{channel}_URL", f"https://{channel.lower()}.example.test")
        monkeypatch.setenv(f"NEWS_{channel}_SECRET", "s3cret")
    return make_uow("news", pg_database)


def approved_item(uow: Any) -> dict[str, Any]:
    item = items.create_item(uow(), ARTICLE)
    item = items.submit_item(uow(), item["id"])
    rev = item["revisions"][-1]
    review_outcomes.on_case_approved(uow(), new_event("review.case.approved", {
        "case_id": f"case-{item['id']}", "item_id": item["id"], "revision": rev["number"],
        "reference_no": "RD-2026-000042", "content_hash": rev["content_hash"]},
        correlation_id=item["correlation_id"]), config.load())
    return item


def emitted(uow: Any, event_type: str) -> list[dict[str, Any]]:
    with uow() as u:
        bodies = u.session.execute(select(outbox_table.c.body).where(
            outbox_table.c.event_type == event_type)).scalars().all()
    return [json.loads(b) for b in bodies]


def test_three_workers_finishing_one_items_channels_publish_it_once(
        news: Any, pg_database: str, tmp_path: Path) -> None:
    item = approved_item(news)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    results = run_at_once(DELIVER.format(url=pg_database, barrier=str(barrier), n=3), n=3)
    assert sum(r["success"] for r in results) == 3
    assert len(list(barrier.iterdir())) == 3, "the three sends overlapped"
    published = emitted(news, "news.item.published")
    assert [e["payload"]["item_id"] for e in published] == [item["id"]]
    assert items.get_item(news(), item["id"])["status"] == "published"


def test_concurrent_sweeps_notify_once_and_expire_once(news: Any, pg_database: str,
                                                      tmp_path: Path) -> None:
    item = approved_item(news)
    past = utcnow() - timedelta(days=400)
    with news() as u:  # published long ago, past its column's maximum age
        u.session.execute(update(db.items).where(db.items.c.id == item["id"]).values(
            status="published", published_at=past, expires_at=past + timedelta(days=365)))
        u.commit()
    now = utcnow()
    later = now + timedelta(days=10)  # past the grace period after the notice
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    results = run_at_once(SWEEP.format(url=pg_database, barrier=str(barrier), n=3,
                                       now=now.isoformat(), later=later.isoformat()), n=3)
    assert sorted(len(first["notified"]) for first, _ in results) == [0, 0, 1]
    assert sorted(len(second["expired"]) for _, second in results) == [0, 0, 1]
    assert len(emitted(news, "news.item.expiring")) == 1
    assert len(emitted(news, "news.item.expired")) == 1
    with news() as u:
        assert len(u.session.execute(select(db.notifications)).all()) == 1
        assert len(u.session.execute(select(db.archive)).all()) == 1
