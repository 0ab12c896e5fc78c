"""An article published to two channels after all three review approvals, with the four
services as processes on RabbitMQ and PostgreSQL: the website (filesystem) publishes at once,
the webhook channel (a signed POST to a receiver this test runs) fails twice with 500 and
recovers on its retries; `news.item.published` reaches the bus once. News writes carry staff
tokens made with `civicpulse users add`: none is a 401, an editor retracting is a 403."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from sqlalchemy import text

from civicpulse.db import make_engine
from civicpulse_demo import add_reviewer, get_json, url
from services.news.channels.receiver import WebhookReceiver

pytestmark = pytest.mark.e2e
T = TypeVar("T")
SECRET = "e2e-webhook-secret"
STAGES = ("section_head", "leader_in_charge", "principal")
OK = {"accuracy": True, "orientation": True, "format": True}
ARTICLE = {"kind": "article", "column": "人大工作进行时",
           "title": "市人大常委会召开主任会议研究部署执法检查工作",
           "body": "会议听取了关于食品安全法执法检查工作方案的汇报。\n\n会议要求，"
                   "要突出重点、务求实效，推动法律全面有效实施。"}


@pytest.fixture
def webhook(suite_env: dict[str, str]) -> Iterator[WebhookReceiver]:
    """The far end of the webhook channel: refuses the first two requests with 500. Listed
    before `running_suite` so the news process starts with its URL and secret in its env."""
    receiver = WebhookReceiver(secret=SECRET, fail_first=2).start()
    suite_env.update({"NEWS_WEBHOOK_URL": receiver.url, "NEWS_WEBHOOK_SECRET": SECRET,
                      "NEWS_QUEUE_BASE_SECONDS": "0.5", "NEWS_QUEUE_INTERVAL_SECONDS": "0.3"})
    yield receiver
    receiver.stop()


def wait_for(what: str, fn: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := fn():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_article_to_two_channels_with_one_failing_and_recovering(
        webhook: WebhookReceiver, running_suite: Any, suite_env: dict[str, str]) -> None:
    tokens = {role: add_reviewer(role, "pub") for role in (*STAGES, "editor")}
    editor = {"Authorization": f"Bearer {tokens['editor']}"}
    anonymous = requests.post(url("news", "/items"), json=ARTICLE, timeout=10)
    assert anonymous.status_code == 401 and "token" in anonymous.json()["error"]
    r = requests.post(url("news", "/items"), json=ARTICLE, headers=editor, timeout=10)
    assert r.status_code == 201, r.text
    item_id = r.json()["id"]
    assert r.json()["author"] == "demo-editor-pub", "the author is the token's staff member"
    assert requests.post(url("news", f"/items/{item_id}/submit"), headers=editor,
                         timeout=10).status_code == 202
    locked = requests.post(url("news", f"/items/{item_id}/revisions"), timeout=10,
                           headers=editor, json={"title": "改", "body": "改"})
    assert locked.status_code == 409 and "locked" in locked.json()["error"]

    def case() -> dict[str, Any] | None:
        cases = get_json("review", f"/cases?correlation_id={item_id}", tokens["editor"])["cases"]
        return cases[0] if cases else None

    c = wait_for("the review case", case)
    for stage in STAGES:
        assert get_json("news", f"/items/{item_id}", tokens["editor"])["status"] == "in_review"
        d = requests.post(url("review", f"/cases/{c['id']}/decisions"), timeout=10,
                          headers={"Authorization": f"Bearer {tokens[stage]}"},
                          json={"decision": "approve", "comment": "同意", "checklist": OK})
        assert d.status_code < 300, f"{stage}: {d.status_code} {d.text}"

    def published() -> dict[str, Any] | None:
        item = get_json("news", f"/items/{item_id}", tokens["editor"])
        return item if item["status"] == "published" else None

    item = wait_for("publication", published)
    assert item["reference_no"]
    site = Path(suite_env["CIVICPULSE_VAR_DIR"]) / "site" / f"{item_id}.html"
    assert site.exists() and ARTICLE["title"] in site.read_text(encoding="utf-8")

    def webhook_sent() -> dict[str, Any] | None:
        item = get_json("news", f"/items/{item_id}", tokens["editor"])
        return item if item["channels"]["webhook"]["status"] == "sent" else None

    item = wait_for("the webhook channel to recover", webhook_sent)
    assert item["channels"]["website"]["status"] == "sent"
    assert item["channels"]["website"]["attempts"] == 1, "the website never waited"
    assert item["channels"]["webhook"]["attempts"] == 3
    assert webhook.refused == 2
    [doc] = webhook.received
    assert (doc["item_id"], doc["action"], doc["title"]) == (item_id, "publish", ARTICLE["title"])
    assert doc["reference_no"] == item["reference_no"]
    assert sorted(p["channel"] for p in item["publications"]) == ["webhook", "website"]
    refused = requests.post(url("news", f"/items/{item_id}/retraction"), headers=editor,
                            json={"note": "撤回"}, timeout=10)
    assert refused.status_code == 403, refused.text
    assert (refused.json()["role"], refused.json()["action"]) == ("editor", "retract")
    assert get_json("news", f"/items/{item_id}", tokens["editor"])["status"] == "published"

    metrics = requests.get(url("news", "/metrics"), timeout=5).text
    assert ('civicpulse_news_publication_attempts_total{channel="webhook",outcome="failure"} 2.0'
            in metrics)
    assert ('civicpulse_news_publication_attempts_total{channel="webhook",outcome="success"} 1.0'
            in metrics)
    assert 'civicpulse_news_items_published_total{channel="website"} 1.0' in metrics

    engine = make_engine(suite_env["NEWS_DATABASE_URL"])
    with engine.connect() as conn:
        sent = conn.execute(text("SELECT count(*) FROM outbox WHERE event_type = "
                                 "'news.item.published' AND sent_at IS NOT NULL")).scalar()
    engine.dispose()
    assert sent == 1, "news.item.published is emitted once, when the first channel succeeds"
