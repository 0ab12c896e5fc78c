"""News and review on the real RabbitMQ (a fresh vhost per test) and PostgreSQL: a statement
request becomes a submitted statement, review opens one case, three approvals publish it once,
and the site page is written. News write endpoints ask identity (RPC) who a staff token belongs
to: no token is a 401, an editor retracting is a 403, and the token's name is the item's author,
so review refuses that person's own decision on it."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from civicpulse.db import UnitOfWork, make_engine, session_factory
from civicpulse.envelope import Envelope, new_event
from services.news import items as news
from services.news.service import NewsService
from services.review import config as review_config
from services.review import domain as review_domain
from services.review import handlers as review
from services.review.service import ReviewService
from tests.conftest import Identity
from tests.helpers import publish_event as publish
from tests.helpers import wait_for

pytestmark = pytest.mark.integration
INC = "inc-news-review-it"
OK = {"accuracy": True, "orientation": True, "format": True}


@pytest.fixture
def second_database(pg_database_factory: Callable[[str], str]) -> str:
    return pg_database_factory("cp_test")


@pytest.fixture
def services(identity: Identity, container_factory: Any, rabbit_config: dict[str, Any],
             pg_database: str, second_database: str, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch, rabbitmq: str) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("NEWS_DATABASE_URL", pg_database)
    monkeypatch.setenv("REVIEW_DATABASE_URL", second_database)
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CIVICPULSE_RELAY_POLL_SECONDS", "0.1")
    news_port = free_port()
    containers = [container_factory(cls, {**rabbit_config, "WEB_SERVER_ADDRESS": address})
                  for cls, address in ((NewsService, f"127.0.0.1:{news_port}"),
                                       (ReviewService, "127.0.0.1:0"))]
    for c in containers:
        c.start()
    yield {"uri": rabbit_config["AMQP_URI"], "site": tmp_path / "site",
           "news_url": f"http://127.0.0.1:{news_port}",
           "news": _uow("news", pg_database), "review": _uow("review", second_database),
           "identity": identity}
    for c in containers:
        c.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _uow(service: str, url: str) -> Callable[[], UnitOfWork]:
    sessions = session_factory(make_engine(url))
    return lambda: UnitOfWork(sessions, service)


def requested() -> Envelope:
    return new_event("liaison.statement.requested", {
        "ticket_id": "tkt-it", "incident_id": INC, "topic": "deputies", "level": "IV",
        "title": "代表信箱回复延迟", "brief": "经核实，系统升级导致部分来信回复延迟。",
        "due_at": "2026-03-01T10:00:00+00:00"}, correlation_id=INC, tlp="AMBER")


def test_statement_is_reviewed_and_published_once(services: dict[str, Any]) -> None:
    event = requested()
    publish(services["uri"], event)
    publish(services["uri"], event)  # redelivered
    cases = wait_for(lambda: review.list_cases(services["review"](), {"correlation_id": INC}))
    time.sleep(0.5)
    assert len(review.list_cases(services["review"](), {"correlation_id": INC})) == 1
    assert len(news.list_items(services["news"](), {"correlation_id": INC})) == 1
    case = cases[0]
    assert case["workflow"] == "expedited" and case["author"] == "liaison-desk"
    cfg = review_config.load()
    for name, role in [("wang", "section_head"), ("qian", "leader_in_charge"),
                       ("zhao", "principal")]:
        review.decide(services["review"](), case["id"], review_domain.Reviewer(name, role),
                      {"decision": "approve", "checklist": OK}, cfg)
    item = wait_for(lambda: [i for i in news.list_items(services["news"](),
                                                        {"correlation_id": INC})
                             if i["status"] == "published"])[0]
    full = news.get_item(services["news"](), item["id"])
    assert full["reference_no"].startswith("RD-") and len(full["publications"]) == 1
    page = services["site"] / f"{item['id']}.html"
    assert page.exists() and "代表信箱回复延迟" in page.read_text(encoding="utf-8")


def test_news_writes_need_a_staff_token_checked_by_identity(services: dict[str, Any]) -> None:
    news_url = services["news_url"]
    wang = services["identity"].add("wang", "section_head")
    zhou = services["identity"].add("zhou", "editor")
    article = {"kind": "notice", "title": "关于召开常委会会议的通知", "body": "定于下周召开。",
               "author": "someone-else"}

    def post(path: str, token: str | None, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(f"{news_url}{path}", json=body, headers=headers, timeout=10)

    assert post("/items", None, article).status_code == 401
    assert post("/items", "not-a-token", article).status_code == 401
    created = post("/items", wang, article)
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["author"] == "wang", "the token's staff member, not the body's author"
    refused = post(f"/items/{item['id']}/retraction", zhou, {"note": "撤回"})
    assert refused.status_code == 403
    assert (refused.json()["role"], refused.json()["action"]) == ("editor", "retract")
    assert post(f"/items/{item['id']}/submit", zhou).status_code == 202
    assert requests.get(f"{news_url}/items/{item['id']}", timeout=10).status_code == 401
    assert requests.get(f"{news_url}/items/{item['id']}", timeout=10,
                        headers={"Authorization": f"Bearer {zhou}"}).json()[
        "status"] == "in_review", "reads need a staff token"

    case = wait_for(lambda: review.list_cases(services["review"](),
                                              {"correlation_id": item["id"]}))[0]
    assert case["author"] == "wang"
    with pytest.raises(review_domain.NotPermitted, match="author"):
        review.decide(services["review"](), case["id"],
                      review_domain.Reviewer("wang", "section_head"),
                      {"decision": "approve", "checklist": OK}, review_config.load())
