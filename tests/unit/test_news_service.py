"""News entrypoints with nameko's worker_factory: HTTP status codes and bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from civicpulse.envelope import new_event
from services.news import config as news_config
from services.news.service import NewsService


class FakePlatform:
    def __init__(self, uow: Any) -> None:
        self.uow = uow


STAFF = {"zhou": "editor", "wang": "section_head", "admin": "admin"}


class FakeIdentity:
    """Stands in for the identity service's `authenticate` RPC: token "<name>-token"."""

    def authenticate(self, token: str) -> dict[str, str] | None:
        name = token.removesuffix("-token")
        return {"name": name, "role": STAFF[name]} if name in STAFF else None


def request(method: str = "GET", path: str = "/", body: Any = None,
            query: dict[str, str] | None = None, as_staff: str | None = "zhou") -> Request:
    """A request; with `as_staff`'s bearer token ("zhou" is an editor, "wang" a section head)."""
    data = json.dumps(body) if body is not None else None
    headers = {"Authorization": f"Bearer {as_staff}-token"} if as_staff else {}
    return Request(EnvironBuilder(method=method, path=path, data=data, query_string=query,
                                  headers=headers, content_type="application/json"
                                  ).get_environ())


def answer(response: tuple[int, dict[str, str], str]) -> tuple[int, Any]:
    return response[0], json.loads(response[2])


@pytest.fixture
def service(uow_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    return worker_factory(NewsService, platform=FakePlatform(uow_factory("news")),
                          identity=FakeIdentity(), config=news_config.load())


DRAFT = {"kind": "article", "title": "常委会召开会议", "body": "会议审议了……"}


def test_create_submit_read(service: Any) -> None:
    status, item = answer(service.post_item(request("POST", "/items", DRAFT)))
    assert status == 201 and item["status"] == "draft" and item["column"] is None
    status, item = answer(service.post_submit(request("POST"), item["id"]))
    assert status == 202 and item["status"] == "in_review"
    assert answer(service.post_submit(request("POST"), item["id"]))[0] == 409
    status, listed = answer(service.get_items(request(query={"status": "in_review"})))
    assert [i["id"] for i in listed["items"]] == [item["id"]]
    status, one = answer(service.get_item_http(request(), item["id"]))
    assert status == 200 and len(one["revisions"]) == 1 and one["publications"] == []
    assert service.get_item(item["id"])["id"] == item["id"]
    assert service.get_item("itm-x") is None


@pytest.mark.parametrize("body", [
    {**DRAFT, "kind": "poem"}, {k: v for k, v in DRAFT.items() if k != "title"},
    {**DRAFT, "title": ""}, [DRAFT],
])
def test_invalid_draft_is_400(service: Any, body: Any) -> None:
    status, answer_body = answer(service.post_item(request("POST", "/items", body)))
    assert status == 400 and "error" in answer_body


def test_unknown_item_and_bad_filters(service: Any) -> None:
    assert answer(service.post_submit(request("POST"), "itm-x"))[0] == 404
    assert answer(service.get_item_http(request(), "itm-x"))[0] == 404
    assert answer(service.get_items(request(query={"kind": "poem"})))[0] == 400
    assert answer(service.post_submit(request("POST", body={"workflow": "x"}), "itm-x"))[0] == 400


def test_statement_to_published_page(service: Any) -> None:
    service.on_statement_requested(new_event("liaison.statement.requested", {
        "ticket_id": "tkt-9", "incident_id": "inc-9", "topic": "office", "level": "II",
        "title": "网传会议信息", "brief": "网传信息不实。", "due_at": "2026-01-01T00:00:00Z"},
        correlation_id="inc-9"))
    [item] = answer(service.get_items(request(query={"correlation_id": "inc-9"})))[1]["items"]
    full = service.get_item(item["id"])
    service.on_case_approved(new_event("review.case.approved", {
        "case_id": "case-9", "item_id": item["id"], "revision": 1,
        "reference_no": "RD-2026-000009", "content_hash": full["revisions"][0]["content_hash"]},
        correlation_id="inc-9"))
    status, headers, html = service.site_page(request(), f"{item['id']}.html")
    assert status == 200 and "text/html" in headers["Content-Type"] and "网传信息不实" in html
    assert service.site_page(request(), "index.html")[0] == 200
    assert service.site_page(request(), "..%2Fnews.db")[0] == 404
    _, _, text = service.metrics(request())
    assert 'civicpulse_news_items_published_total{channel="website"}' in text


def _published_long_ago(service: Any, uow: Any, years: int = 2) -> str:
    """An article published `years` ago (handlers with an explicit clock)."""
    from datetime import timedelta

    from civicpulse.envelope import utcnow
    from services.news import config, queue, review_outcomes

    then = utcnow() - timedelta(days=365 * years)
    _, item = answer(service.post_item(request("POST", "/items", {**DRAFT, "column": "法治前沿"})))
    answer(service.post_submit(request("POST"), item["id"]))
    rev = service.get_item(item["id"])["revisions"][-1]
    review_outcomes.on_case_approved(uow(), new_event("review.case.approved", {
        "case_id": "c", "item_id": item["id"], "revision": 1, "reference_no": "RD-1",
        "content_hash": rev["content_hash"]}, correlation_id=item["id"]), config.load(), then)
    queue.deliver_due(uow(), config.load(), now=then)
    return item["id"]


@pytest.fixture
def wired(uow_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NEWS_EXPIRY_GRACE_HOURS", "0")
    monkeypatch.delenv("NEWS_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("NEWS_WECHAT_URL", raising=False)
    uow = uow_factory("news")
    return worker_factory(NewsService, platform=FakePlatform(uow), identity=FakeIdentity(),
                          config=news_config.load()), uow


def test_timers_are_wired_and_the_sweep_timer_expires_an_outdated_item(wired: Any) -> None:
    from civicpulse.timers import ConfiguredTimer
    from services.news import config

    service, uow = wired
    # @every("<field>"): the interval is the loaded configuration's field, read at setup
    intervals = {name: getattr(config.load(), next(
        e.interval_of for e in getattr(NewsService, name).nameko_entrypoints
        if isinstance(e, ConfiguredTimer))) for name in ("publication_tick", "expiry_sweep")}
    assert intervals == {"publication_tick": config.queue_interval(),
                         "expiry_sweep": config.sweep_interval()}
    item_id = _published_long_ago(service, uow)
    assert service.get_item(item_id)["status"] == "published"
    service.expiry_sweep()  # notifies the owner
    assert answer(service.get_notifications(request(query={"recipient": "zhou"})))[1][
        "notifications"][0]["item_id"] == item_id
    service.expiry_sweep()  # grace 0: expires
    assert service.get_item(item_id)["status"] == "expired"
    service.publication_tick()  # the website is told
    page = (config.load().site_dir / f"{item_id}.html").read_text(encoding="utf-8")
    assert "已过期归档" in page
    [entry] = answer(service.get_archive(request()))[1]["archive"]
    assert entry["item_id"] == item_id and entry["previous_status"] == "published"
    assert answer(service.post_restore(request("POST"), item_id))[0] == 403  # an editor
    status, restored = answer(service.post_restore(request("POST", as_staff="wang"), item_id))
    assert status == 200 and restored["status"] == "published"
    assert answer(service.post_restore(request("POST", as_staff="wang"), item_id))[0] == 409


def test_locked_in_review_and_amendments_over_http(wired: Any) -> None:
    service, uow = wired
    _, item = answer(service.post_item(request("POST", "/items", DRAFT)))
    answer(service.post_submit(request("POST"), item["id"]))
    status, body = answer(service.post_revision(
        request("POST", body={"title": "t", "body": "b"}), item["id"]))
    assert status == 409 and "locked" in body["error"]
    note = {"note": "更正", "by": "someone-else"}
    head = {"as_staff": "wang"}
    assert answer(service.post_correction(request("POST", body=note, **head), item["id"]))[0] == 409
    assert answer(service.post_correction(request("POST", body={"by": "x"}, **head),
                                          item["id"]))[0] == 400
    item_id = _published_long_ago(service, uow)
    status, corrected = answer(service.post_correction(request("POST", body=note, **head),
                                                       item_id))
    assert status == 201 and corrected["status"] == "corrected"
    status, retracted = answer(service.post_retraction(request("POST", body=note, **head),
                                                       item_id))
    assert status == 201 and [n["kind"] for n in retracted["notes"]] == [
        "correction", "retraction"]
    assert {n["by"] for n in retracted["notes"]} == {"wang"}, "the token's name, not the body's"
    assert answer(service.post_item(request("POST", "/items", {**DRAFT, "column": "无"})))[0] == 400


def test_plan_comments_and_stats_over_http(wired: Any) -> None:
    service, _ = wired
    assert answer(service.get_plan(request(query={"month": "2026-13"})))[0] == 400
    status, theme = answer(service.post_theme(request("POST", body={
        "month": "2026-03", "title": "执法检查"})))
    assert status == 201
    status, _ = answer(service.post_plan_entry(request("POST", body={
        "title": "启动", "kind": "article", "due_on": "2000-03-02"}), theme["id"]))
    assert status == 201
    assert answer(service.post_plan_entry(request("POST", body={
        "title": "x", "kind": "article", "due_on": "2026-03-02"}), 999))[0] == 404
    status, month = answer(service.get_plan(request(query={"month": "2026-03"})))
    assert status == 200 and [e["title"] for e in month["late"]] == ["启动"]

    batch = [{"channel": "weibo", "external_id": "w1", "author": "网友", "text": "何时公布？"}]
    assert answer(service.post_comments(request("POST", body=batch)))[1]["accepted"] == 1
    assert answer(service.post_comments(request("POST", body={"a": 1})))[0] == 400
    [c] = answer(service.get_comments(request(query={"state": "awaiting"})))[1]["comments"]
    reply = {"reply": "近期公布。", "by": "li"}
    assert answer(service.post_reply(request("POST", body=reply), c["id"]))[0] == 200
    assert answer(service.post_reply(request("POST", body=reply), c["id"]))[0] == 409
    assert answer(service.post_reply(request("POST", body=reply), 999))[0] == 404
    _, item = answer(service.post_item(request("POST", "/items", DRAFT)))
    stats = {"channel": "weibo", "views": 5, "likes": 1, "comments": 1}
    assert answer(service.post_stats(request("POST", body=stats), item["id"]))[0] == 200
    assert answer(service.post_stats(request("POST", body=stats), "itm-x"))[0] == 404
    _, _, text = service.metrics(request())
    assert 'civicpulse_news_comments_awaiting_reply{channel="weibo"} 0.0' in text
    assert "civicpulse_news_publication_queue_depth" in text


def test_reads_and_writes_need_a_staff_token(service: Any) -> None:
    anonymous, stranger = {"as_staff": None}, {"as_staff": "nobody"}
    for who in (anonymous, stranger):
        status, body = answer(service.post_item(request("POST", "/items", DRAFT, **who)))
        assert status == 401 and "token" in body["error"]
        assert answer(service.post_submit(request("POST", **who), "itm-x"))[0] == 401
        assert answer(service.post_comments(request("POST", body=[], **who)))[0] == 401
        assert answer(service.get_items(request(**who)))[0] == 401
        assert answer(service.get_item_http(request(**who), "itm-x"))[0] == 401
        assert answer(service.get_comments(request(**who)))[0] == 401
    assert answer(service.get_items(request()))[0] == 200
    assert answer(service.get_item_http(request(), "itm-x"))[0] == 404


def test_the_author_is_the_token_s_staff_member(service: Any) -> None:
    status, item = answer(service.post_item(request("POST", "/items",
                                                    {**DRAFT, "author": "forged"})))
    assert status == 201 and item["author"] == "zhou"


def test_an_editor_may_not_retract_embargo_or_set_an_expiry(service: Any) -> None:
    _, item = answer(service.post_item(request("POST", "/items", DRAFT)))
    status, body = answer(service.post_retraction(request("POST", body={"note": "撤回"}),
                                                  item["id"]))
    assert status == 403 and (body["role"], body["action"]) == ("editor", "retract")
    embargo = {"publish_at": "2030-01-01T00:00:00+00:00"}
    status, body = answer(service.post_embargo(request("POST", body=embargo), item["id"]))
    assert status == 403 and body["action"] == "embargo"
    status, body = answer(service.post_item(request(
        "POST", "/items", {**DRAFT, "valid_until": "2030-01-01T00:00:00+00:00"})))
    assert status == 403 and body["action"] == "override_expiry"
    status, body = answer(service.post_embargo(request("POST", body=embargo, as_staff="admin"),
                                               item["id"]))
    assert status == 200 and body["publish_at"].startswith("2030-01-01")
