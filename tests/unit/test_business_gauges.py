"""The gauges the business alerts and the 业务 dashboard read, on SQLite: liaison's overdue plan
deadlines, news' failing channels, review's longest-waiting stage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from civicpulse.envelope import new_event
from services.liaison import config as liaison_config
from services.liaison import incidents, ticket_views, ticket_work
from services.news import db as news_db
from services.news import queue
from services.review import config as review_config
from services.review import handlers as review
from services.review import metrics as review_metrics

T0 = datetime(2026, 10, 20, 6, 0, tzinfo=UTC)


def test_an_unmet_deadline_counts_until_it_is_met_or_the_ticket_resolved(
        uow_factory: Callable[[str], Any]) -> None:
    uow, cfg = uow_factory("liaison"), liaison_config.load()
    event = new_event("sentiment.incident.detected", {
        "incident_id": "inc-g", "topic": "t", "level": "II", "detected_at": T0.isoformat(),
        "negative_count": 3, "volume": 4, "negative_ratio": 0.75}, correlation_id="inc-g")
    ticket = incidents.open_ticket(uow(), event, cfg, now=T0).ticket_id  # II: ack in 15 min
    assert ticket_views.overdue_deadlines(uow(), now=T0 + timedelta(minutes=14)) == {}
    assert ticket_views.overdue_deadlines(uow(), now=T0 + timedelta(minutes=16)) == {
        ("acknowledge", "II"): 1}
    ticket_work.acknowledge(uow(), ticket, "zhou", cfg, now=T0 + timedelta(minutes=20))
    later = T0 + timedelta(days=2)  # first response (60 min) and resolve (1 day) missed too
    assert ticket_views.overdue_deadlines(uow(), now=later) == {("first_response", "II"): 1,
                                                           ("resolve", "II"): 1}


def _delivery(uow: Any, channel: str, status: str, created: datetime, *,
              error: str | None = None, sent: datetime | None = None) -> None:
    with uow() as u:
        u.session.execute(insert(news_db.deliveries).values(
            item_id="itm-1", revision=1, channel=channel, action="publish", status=status,
            attempts=1, last_error=error, created_at=created, sent_at=sent))
        u.commit()


def test_a_channel_fails_from_its_first_failure_after_its_last_success(
        uow_factory: Callable[[str], Any]) -> None:
    uow = uow_factory("news")
    with uow() as u:
        u.session.execute(insert(news_db.items).values(
            id="itm-1", kind="article", title="t", body="b", author="sun", status="published",
            current_revision=1, correlation_id="c", created_at=T0, updated_at=T0))
        u.commit()
    hour = timedelta(hours=1)
    _delivery(uow, "weibo", "failed", T0, error="502")             # before the last success
    _delivery(uow, "weibo", "sent", T0 + hour, sent=T0 + hour)
    _delivery(uow, "weibo", "pending", T0 + 2 * hour, error="502")  # failing since then
    _delivery(uow, "weibo", "failed", T0 + 3 * hour, error="502")
    _delivery(uow, "wechat", "sent", T0, sent=T0)
    _delivery(uow, "wechat", "pending", T0 + hour)                  # queued, not yet failed
    assert queue.failing_since(uow()) == {"weibo": T0 + 2 * hour}


def test_the_oldest_waiting_case_ages_its_stage(uow_factory: Callable[[str], Any]) -> None:
    uow, cfg = uow_factory("review"), review_config.load()
    submitted = new_event("news.item.submitted", {
        "item_id": "itm-9", "revision": 1, "kind": "article", "title": "标题", "body": "正文",
        "author": "sun", "content_hash": "a" * 64, "workflow": "default", "ticket_id": None},
        correlation_id="c")
    review.open_case(uow(), submitted, cfg, now=datetime.now(UTC) - timedelta(hours=2))
    review.refresh_open_gauge(uow())
    waited = review_metrics.oldest_waiting.labels("section_head")._value.get()
    assert 2 * 3600 <= waited < 2 * 3600 + 60
    assert review_metrics.oldest_waiting.labels("principal")._value.get() == 0
