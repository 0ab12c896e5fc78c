"""The publication pipeline on SQLite with a controllable clock: the per-channel queue with a
real local webhook receiver, embargoes, edits after approval, corrections, retractions, the
expiry sweep with archive and restore, the publicity plan and the comment queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from civicpulse.envelope import new_event
from civicpulse.tables import outbox_table
from services.news import (
    config,
    domain,
    interaction,
    items,
    plan,
    queue,
    review_outcomes,
    sweep,
)
from services.news.channels.receiver import WebhookReceiver
from services.news.config import NewsConfig

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SECRET = "s3cret"
ARTICLE = {"kind": "article", "title": "市人大常委会开展食品安全法执法检查",
           "body": "3月2日，执法检查组深入企业调研。\n\n检查组听取了有关汇报。",
           "column": "人大工作进行时", "author": "editor-zhou"}


@pytest.fixture
def uow(uow_factory: Any) -> Any:
    return uow_factory("news")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(secret=SECRET, fail_first=2).start()
    yield r
    r.stop()


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver
        ) -> NewsConfig:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NEWS_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("NEWS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("NEWS_WEBHOOK_TIMEOUT", "5")
    monkeypatch.delenv("NEWS_WECHAT_URL", raising=False)
    monkeypatch.delenv("NEWS_WEIBO_URL", raising=False)
    return config.load()


def events(uow: Any, type_: str | None = None) -> list[dict[str, Any]]:
    with uow() as u:
        rows = u.session.execute(select(outbox_table.c.body).order_by(outbox_table.c.id))
        found = [json.loads(r[0]) for r in rows]
    return [e for e in found if type_ is None or e["type"] == type_]


def counter(channel: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("civicpulse_news_publication_attempts_total",
                                     {"channel": channel, "outcome": outcome}) or 0.0


def approve(uow: Any, item_id: str, cfg: NewsConfig, now: datetime = T0) -> dict[str, Any]:
    """Submit the item and let review approve its current revision."""
    item = items.get_item(uow(), item_id)
    if item["status"] == "draft":
        item = items.submit_item(uow(), item_id)
    rev = item["revisions"][-1]
    event = new_event("review.case.approved", {
        "case_id": f"case-{item_id}", "item_id": item_id, "revision": rev["number"],
        "reference_no": "RD-2026-000042", "content_hash": rev["content_hash"]},
        correlation_id=item["correlation_id"])
    result = review_outcomes.on_case_approved(uow(), event, cfg, now=now)
    assert result is not None
    return result


def article(uow: Any, **extra: Any) -> dict[str, Any]:
    return items.create_item(uow(), {**ARTICLE, **extra})


def test_failing_webhook_retries_with_backoff_while_the_website_publishes(
        uow: Any, cfg: NewsConfig, receiver: WebhookReceiver) -> None:
    item = article(uow)
    before = (counter("webhook", "failure"), counter("webhook", "success"),
              counter("website", "success"))
    queued = approve(uow, item["id"], cfg)["channels"]
    assert queued == ["website", "webhook"], "wechat has no URL configured: not queued"

    assert queue.deliver_due(uow(), cfg, now=T0) == {
        "success": 1, "failure": 1, "gave_up": 0, "cancelled": 0}
    after = items.get_item(uow(), item["id"])
    assert after["status"] == "published" and after["reference_no"] == "RD-2026-000042"
    assert after["channels"]["website"]["status"] == "sent"
    hook = after["channels"]["webhook"]
    assert hook["status"] == "pending" and hook["attempts"] == 1 and "500" in hook["last_error"]
    [published] = events(uow, "news.item.published")
    assert published["payload"]["channels"] == ["website"]
    assert published["payload"]["pending_channels"] == ["webhook"]
    assert (cfg.site_dir / f"{item['id']}.html").exists()

    # not yet due: the first retry waits base_seconds (2 s)
    assert queue.deliver_due(uow(), cfg, now=T0 + timedelta(seconds=1))["failure"] == 0
    assert queue.deliver_due(uow(), cfg, now=T0 + timedelta(seconds=2))["failure"] == 1
    assert queue.deliver_due(uow(), cfg, now=T0 + timedelta(seconds=5))["success"] == 0
    assert queue.deliver_due(uow(), cfg, now=T0 + timedelta(seconds=6))["success"] == 1

    final = items.get_item(uow(), item["id"])
    assert final["channels"]["webhook"] | {"next_attempt_at": None} == {
        "action": "publish", "status": "sent", "attempts": 3, "last_error": None,
        "next_attempt_at": None, "url": f"{receiver.url}/{item['id']}"}
    assert sorted(p["channel"] for p in final["publications"]) == ["webhook", "website"]
    [doc] = receiver.received
    assert doc["item_id"] == item["id"] and doc["action"] == "publish"
    assert doc["body"] == ARTICLE["body"] and doc["reference_no"] == "RD-2026-000042"
    assert receiver.refused == 2
    assert len(events(uow, "news.item.published")) == 1, "published is emitted once"
    assert counter("webhook", "failure") - before[0] == 2
    assert counter("webhook", "success") - before[1] == 1
    assert counter("website", "success") - before[2] == 1


def test_a_channel_gives_up_after_its_attempts(uow: Any, cfg: NewsConfig,
                                               receiver: WebhookReceiver,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    receiver.fail_first = 100
    monkeypatch.setenv("NEWS_QUEUE_MAX_ATTEMPTS", "2")
    cfg = config.load()
    item = article(uow)
    approve(uow, item["id"], cfg)
    queue.deliver_due(uow(), cfg, now=T0)
    assert queue.deliver_due(uow(), cfg, now=T0 + timedelta(minutes=1))["gave_up"] == 1
    assert queue.deliver_due(uow(), cfg, now=T0 + timedelta(days=1))["failure"] == 0
    final = items.get_item(uow(), item["id"])
    assert final["status"] == "published"
    assert final["channels"]["webhook"]["status"] == "failed"
    assert final["channels"]["website"]["status"] == "sent"
    [failed] = events(uow, "news.delivery.failed")
    assert failed["payload"]["channel"] == "webhook" and failed["payload"]["attempts"] == 2
    # v2 names its keys: the item, and the ticket (none: this article was not drafted for one)
    assert failed["version"] == 2 and failed["payload"]["item_id"] == item["id"]
    assert "ticket_id" in failed["payload"] and failed["payload"]["ticket_id"] is None


def test_a_bad_signature_is_refused_by_the_receiver(uow: Any, cfg: NewsConfig,
                                                    receiver: WebhookReceiver,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    receiver.fail_first = 0
    monkeypatch.setenv("NEWS_WEBHOOK_SECRET", "wrong")
    cfg = config.load()
    item = article(uow)
    approve(uow, item["id"], cfg)
    queue.deliver_due(uow(), cfg, now=T0)
    hook = items.get_item(uow(), item["id"])["channels"]["webhook"]
    assert hook["status"] == "pending" and "401" in hook["last_error"]
    assert receiver.received == []


def test_embargo_schedules_then_the_timer_releases(uow: Any, cfg: NewsConfig) -> None:
    item = article(uow, publish_at=T0 + timedelta(hours=2))
    assert approve(uow, item["id"], cfg)["status"] == "scheduled"
    [scheduled] = events(uow, "news.item.scheduled")
    assert scheduled["payload"]["publish_at"] == (T0 + timedelta(hours=2)).isoformat()
    assert items.release_due(uow(), cfg, now=T0 + timedelta(hours=1)) == []
    assert queue.deliver_due(uow(), cfg, now=T0 + timedelta(hours=1))["success"] == 0
    assert items.get_item(uow(), item["id"])["status"] == "scheduled"
    assert items.release_due(uow(), cfg, now=T0 + timedelta(hours=2)) == [item["id"]]
    queue.deliver_due(uow(), cfg, now=T0 + timedelta(hours=2))
    assert items.get_item(uow(), item["id"])["status"] == "published"


def test_editing_an_approved_item_sends_it_back_to_review(uow: Any, cfg: NewsConfig) -> None:
    item = article(uow, publish_at=T0 + timedelta(days=1))
    approve(uow, item["id"], cfg)
    revised = items.revise_item(uow(), item["id"], ARTICLE["title"], "改后的正文。",
                                   "editor-zhou")
    assert revised["status"] == "in_review" and revised["current_revision"] == 2
    assert revised["approved_hash"] is None
    submitted = events(uow, "news.item.submitted")
    assert [e["payload"]["revision"] for e in submitted] == [1, 2]
    with pytest.raises(domain.Locked):
        items.revise_item(uow(), item["id"], "again", "locked", "editor-zhou")
    assert items.release_due(uow(), cfg, now=T0 + timedelta(days=2)) == []


def test_pending_deliveries_of_an_edited_revision_are_cancelled(uow: Any,
                                                                cfg: NewsConfig) -> None:
    item = article(uow)
    approve(uow, item["id"], cfg)
    items.revise_item(uow(), item["id"], ARTICLE["title"], "新正文", "editor-zhou")
    assert queue.deliver_due(uow(), cfg, now=T0)["success"] == 0
    after = items.get_item(uow(), item["id"])
    assert {d["status"] for d in after["deliveries"]} == {"cancelled"}
    assert not (cfg.site_dir / f"{item['id']}.html").exists()


def test_correction_then_retraction_are_kept_and_shown(uow: Any, cfg: NewsConfig,
                                                       receiver: WebhookReceiver) -> None:
    receiver.fail_first = 0
    item = article(uow)
    approve(uow, item["id"], cfg)
    queue.deliver_due(uow(), cfg, now=T0)
    items.correct_item(uow(), item["id"], "第二段日期更正为3月2日。", "editor-zhou", cfg,
                          now=T0 + timedelta(hours=1))
    queue.deliver_due(uow(), cfg, now=T0 + timedelta(hours=1))
    page = (cfg.site_dir / f"{item['id']}.html").read_text(encoding="utf-8")
    assert "更正" in page and "第二段日期更正为3月2日。" in page and "执法检查组" in page
    items.retract_item(uow(), item["id"], "活动信息有误，撤回。", "editor-zhou", cfg,
                          now=T0 + timedelta(hours=2))
    queue.deliver_due(uow(), cfg, now=T0 + timedelta(hours=2))
    page = (cfg.site_dir / f"{item['id']}.html").read_text(encoding="utf-8")
    assert "撤回" in page and "执法检查组" not in page
    assert item["id"] not in (cfg.site_dir / "index.html").read_text(encoding="utf-8")
    final = items.get_item(uow(), item["id"])
    assert final["status"] == "retracted"
    assert [n["kind"] for n in final["notes"]] == ["correction", "retraction"]
    assert [e["type"] for e in events(uow) if e["type"].startswith("news.item.")][-2:] == [
        "news.item.corrected", "news.item.retracted"]
    assert [d["action"] for d in receiver.received] == ["publish", "correct", "retract"]
    with pytest.raises(domain.InvalidTransition):
        items.correct_item(uow(), item["id"], "x", "y", cfg)


def test_sweep_notifies_the_owner_then_expires_and_archives(uow: Any, cfg: NewsConfig,
                                                            receiver: WebhookReceiver) -> None:
    receiver.fail_first = 0
    item = article(uow)
    approve(uow, item["id"], cfg)
    queue.deliver_due(uow(), cfg, now=T0)
    published = items.get_item(uow(), item["id"])
    max_age = cfg.column("人大工作进行时").max_age_days
    outdated = T0 + timedelta(days=max_age, minutes=1)

    assert sweep.sweep(uow(), cfg, now=T0 + timedelta(days=max_age - 1)) == {
        "notified": [], "expired": []}
    assert sweep.sweep(uow(), cfg, now=outdated) == {"notified": [item["id"]], "expired": []}
    [note] = sweep.notifications(uow(), "editor-zhou")
    assert note["item_id"] == item["id"] and note["kind"] == "expiry"
    [expiring] = events(uow, "news.item.expiring")
    assert expiring["payload"]["owner"] == "editor-zhou"
    assert sweep.sweep(uow(), cfg, now=outdated + cfg.grace - timedelta(minutes=1)) == {
        "notified": [], "expired": []}
    assert sweep.sweep(uow(), cfg, now=outdated + cfg.grace) == {
        "notified": [], "expired": [item["id"]]}
    queue.deliver_due(uow(), cfg, now=outdated + cfg.grace)

    expired = items.get_item(uow(), item["id"])
    assert expired["status"] == "expired" and expired["archived"] is True
    assert len(expired["revisions"]) == len(published["revisions"]), "nothing deleted"
    [entry] = sweep.archived(uow())
    assert entry["item_id"] == item["id"] and entry["previous_status"] == "published"
    assert [e["payload"]["item_id"] for e in events(uow, "news.item.expired")] == [item["id"]]
    page = (cfg.site_dir / f"{item['id']}.html").read_text(encoding="utf-8")
    assert "已过期归档" in page
    assert item["id"] not in (cfg.site_dir / "index.html").read_text(encoding="utf-8")
    assert [d["action"] for d in receiver.received] == ["publish", "expire"]

    later = outdated + cfg.grace + timedelta(days=1)
    restored = sweep.restore(uow(), item["id"], cfg, now=later)
    assert restored["status"] == "published" and restored["archived"] is False
    queue.deliver_due(uow(), cfg, now=later)
    assert item["id"] in (cfg.site_dir / "index.html").read_text(encoding="utf-8")
    assert sweep.sweep(uow(), cfg, now=later + timedelta(days=1)) == {
        "notified": [], "expired": []}
    assert sweep.archived(uow())[0]["restored_at"] is not None


def test_time_sensitive_items_expire_sooner(uow: Any, cfg: NewsConfig) -> None:
    item = article(uow, time_sensitive=True)
    approve(uow, item["id"], cfg)
    queue.deliver_due(uow(), cfg, now=T0)
    at = T0 + timedelta(days=cfg.time_sensitive_days, seconds=1)
    assert sweep.sweep(uow(), cfg, now=at)["notified"] == [item["id"]]


def test_publicity_plan_shows_what_is_late(uow: Any, cfg: NewsConfig) -> None:
    theme = plan.add_theme(uow(), {"month": "2026-03", "title": "食品安全法执法检查"})
    done = article(uow)
    plan.add_entry(uow(), theme["id"], {"title": "执法检查启动", "kind": "article",
                                         "column": "人大工作进行时", "due_on": date(2026, 3, 2),
                                         "item_id": done["id"]})
    late = plan.add_entry(uow(), theme["id"], {"title": "代表风采：检查组代表",
                                                "kind": "article", "due_on": date(2026, 3, 5)})
    plan.add_entry(uow(), theme["id"], {"title": "法治前沿：解读", "kind": "article",
                                         "due_on": date(2026, 3, 20)})
    plan.add_theme(uow(), {"month": "2026-04", "title": "其他"})
    approve(uow, done["id"], cfg)
    queue.deliver_due(uow(), cfg, now=T0)
    month = plan.month_plan(uow(), "2026-03", today=date(2026, 3, 10))
    assert [t["title"] for t in month["themes"]] == ["食品安全法执法检查"]
    assert [e["state"] for e in month["themes"][0]["entries"]] == ["done", "late", "planned"]
    assert [e["id"] for e in month["late"]] == [late["id"]]
    assert month["counts"] == {"planned": 1, "late": 1, "done": 1}
    with pytest.raises(plan.ThemeNotFound):
        plan.add_entry(uow(), 999, {"title": "x", "kind": "article", "due_on": date(2026, 3, 1)})


def test_comments_await_a_reply_within_the_deadline(uow: Any, cfg: NewsConfig) -> None:
    batch = [{"channel": "wechat", "external_id": f"c{i}", "author": "网友",
              "text": "请问检查结果何时公布？", "received_at": T0 + timedelta(hours=i)}
             for i in range(3)]
    assert interaction.receive_comments(uow(), batch, cfg) == {"accepted": 3, "duplicates": 0}
    assert interaction.receive_comments(uow(), batch[:1], cfg)["duplicates"] == 1
    now = T0 + timedelta(hours=cfg.reply_hours + 1, minutes=30)
    assert len(interaction.list_comments(uow(), "awaiting", now)) == 3
    overdue = interaction.list_comments(uow(), "overdue", now)
    assert [c["external_id"] for c in overdue] == ["c0", "c1"]
    answered = interaction.reply(uow(), overdue[0]["id"], "检查结束后将及时公布。", "editor-li",
                                 now=now)
    assert answered["replied_by"] == "editor-li"
    with pytest.raises(interaction.AlreadyReplied):
        interaction.reply(uow(), overdue[0]["id"], "again", "x", now=now)
    assert [c["external_id"] for c in interaction.list_comments(uow(), "replied", now)] == ["c0"]
    interaction.refresh_gauges(uow(), now)
    assert REGISTRY.get_sample_value("civicpulse_news_comments_overdue",
                                     {"channel": "wechat"}) == 1
    assert REGISTRY.get_sample_value("civicpulse_news_comments_awaiting_reply",
                                     {"channel": "wechat"}) == 2


def test_channel_statistics_replace_the_previous_counts(uow: Any, cfg: NewsConfig) -> None:
    item = article(uow)
    interaction.record_stats(uow(), item["id"], {"channel": "wechat", "views": 10, "likes": 1,
                                                 "comments": 0})
    interaction.record_stats(uow(), item["id"], {"channel": "wechat", "views": 120, "likes": 9,
                                                 "comments": 3})
    [stats] = items.get_item(uow(), item["id"])["stats"]
    assert (stats["views"], stats["likes"], stats["comments"]) == (120, 9, 3)
    with pytest.raises(items.ItemNotFound):
        interaction.record_stats(uow(), "itm-x", {"channel": "wechat", "views": 1, "likes": 0,
                                                  "comments": 0})


def test_a_revision_whose_content_was_not_approved_is_never_sent(
        uow: Any, cfg: NewsConfig, receiver: WebhookReceiver) -> None:
    """The queue checks the delivery's revision against the approved content before sending
    (it used to compare the approved hash with itself and publish whatever was queued)."""
    from services.news import db

    item = article(uow)
    approve(uow, item["id"], cfg)
    with uow() as u:  # the approval now names other content than the queued revision's
        u.session.execute(db.items.update().where(db.items.c.id == item["id"])
                          .values(approved_hash="0" * 64))
        u.commit()
    assert queue.deliver_due(uow(), cfg, now=T0)["cancelled"] == 2
    after = items.get_item(uow(), item["id"])
    assert after["status"] == "approved" and after["publications"] == []
    assert not (cfg.site_dir / f"{item['id']}.html").exists()
    assert receiver.received == [] and events(uow, "news.item.published") == []


def test_the_first_publication_refuses_content_that_is_not_the_approved_revisions(
        uow: Any, cfg: NewsConfig) -> None:
    """`check_publish` at the first publication compares the delivered revision's content hash
    with the approved one: when the approval changes while a channel is sending (a race the
    queue's pre-send check cannot see), the item is not marked published and no
    `news.item.published` goes out. (It used to be given the approved hash twice, ignore the
    answer and write `published` regardless.)"""
    from services.news import db

    item = article(uow)
    approve(uow, item["id"], cfg)

    class RacingChannel:
        def send(self, shown: dict[str, Any], action: str, context: dict[str, Any],
                 delivery_id: str = "") -> str:
            with uow() as u:   # meanwhile the approval now names other content
                u.session.execute(db.items.update().where(db.items.c.id == item["id"])
                                  .values(approved_hash="0" * 64))
                u.commit()
            return "https://example.invalid/sent"

    with pytest.raises(domain.StaleApproval):
        queue.deliver_due(uow(), cfg, now=T0, channel_for=lambda name: RacingChannel())
    after = items.get_item(uow(), item["id"])
    assert after["status"] == "approved" and after["published_at"] is None
    assert events(uow, "news.item.published") == []
