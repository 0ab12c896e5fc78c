"""The auto-drafted statement, from a detected incident to the draft news submits for review:
titled and written with the topic's human name and the incident's public facts, in a public
structure (what happened, what the office is doing, where to follow up); never the desk's
internal brief, the level code or the topic code. A request from before those facts travelled
(v1) still drafts from its title and brief."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, parse
from civicpulse.tables import outbox_table
from services.liaison import config as liaison_config
from services.liaison import incidents
from services.news import items, statements
from tests.conftest import make_uow

INC = "inc-draft-1"
UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def liaison_uow(tmp_path: Path) -> UowFactory:
    return make_uow("liaison", f"sqlite:///{tmp_path / 'liaison.db'}")


@pytest.fixture
def news_uow(tmp_path: Path) -> UowFactory:
    return make_uow("news", f"sqlite:///{tmp_path / 'news.db'}")


def detected(**extra: str) -> Envelope:
    return new_event("sentiment.incident.detected", {
        "incident_id": INC, "topic": "legislation", "level": "III",
        "detected_at": "2026-03-01T17:30:00+00:00", "negative_count": 30, "volume": 40,
        "negative_ratio": 0.75, **extra}, correlation_id=INC, tlp="AMBER")


def requested(uow: UowFactory) -> Envelope:
    with uow() as u:
        bodies = [json.loads(b) for b in u.session.execute(select(outbox_table.c.body))
                  .scalars()]
    [request] = [b for b in bodies if b["type"] == "liaison.statement.requested"]
    return parse(request)


def draft(liaison_uow: UowFactory, news_uow: UowFactory, event: Envelope
          ) -> tuple[Envelope, dict[str, str]]:
    effect = incidents.open_ticket(liaison_uow(), event, liaison_config.load())
    assert effect is not None
    request = requested(liaison_uow)
    item_id = statements.draft_statement(news_uow(), request)
    assert item_id is not None
    return request, items.get_item(news_uow(), item_id)


def test_the_draft_uses_the_topics_name_and_public_facts_only(
        liaison_uow: UowFactory, news_uow: UowFactory) -> None:
    request, item = draft(liaison_uow, news_uow, detected(topic_name="立法工作"))
    assert request.version == 2
    assert (request.payload["topic_name"], request.payload["noticed_at"]) == (
        "立法工作", "2026-03-01T17:30:00+00:00")
    assert item["title"] == "关于立法工作有关情况的说明"
    body = item["body"]
    assert body.startswith("3月2日以来，社会各界对立法工作有关情况较为关注")  # office time
    for section in ("一、基本情况。", "二、工作措施。", "三、信息发布。"):
        assert section in body
    assert "门户网站和官方微信公众号" in body  # where to follow up
    internal = (request.payload["brief"], "legislation", "III", "舆情", "口径", INC,
                request.payload["ticket_id"])
    assert not [word for word in internal if word in item["title"] + body]


def test_the_ticket_is_titled_with_the_topics_name(
        liaison_uow: UowFactory, news_uow: UowFactory) -> None:
    request, _ = draft(liaison_uow, news_uow, detected(topic_name="立法工作"))
    assert request.payload["title"] == "舆情联合处置：立法工作（III级）"
    assert "立法工作" in request.payload["brief"]


def test_without_a_name_the_code_stands_in_and_the_draft_stays_public(
        liaison_uow: UowFactory, news_uow: UowFactory) -> None:
    request, item = draft(liaison_uow, news_uow, detected())  # sentiment v1: no topic_name
    assert request.payload["topic_name"] == "legislation"
    assert item["title"] == "关于legislation有关情况的说明"
    assert request.payload["brief"] not in item["body"]


def test_a_v1_request_still_drafts_from_its_title_and_brief(news_uow: UowFactory) -> None:
    old = new_event("liaison.statement.requested", {
        "ticket_id": "tkt-old", "incident_id": "inc-old", "topic": "budget", "level": "III",
        "title": "预算公开信息更新不及时", "brief": "经核实，预算公开栏目更新因系统迁移推迟。",
        "due_at": "2026-03-05T10:00:00Z"}, correlation_id="inc-old", tlp="AMBER", version=1)
    item = items.get_item(news_uow(), statements.draft_statement(news_uow(), old))
    assert item["title"] == "关于预算公开信息更新不及时的情况说明"
    assert "预算公开栏目更新因系统迁移推迟" in item["body"]
