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
from services.news.service import NewsService


class FakePlatform:
    def __init__(self, uow: Any) -> None:
        self.uow = uow


def request(method: str = "GET", path: str = "/", body: Any = None,
            query: dict[str, str] | None = None) -> Request:
    data = json.dumps(body) if body is not None else None
    return Request(EnvironBuilder(method=method, path=path, data=data, query_string=query,
                                  content_type="application/json").get_environ())


def answer(response: tuple[int, dict[str, str], str]) -> tuple[int, Any]:
    return response[0], json.loads(response[2])


@pytest.fixture
def service(uow_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    return worker_factory(NewsService, platform=FakePlatform(uow_factory("news")))


DRAFT = {"kind": "article", "title": "常委会召开会议", "body": "会议审议了……", "author": "zhou"}


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
