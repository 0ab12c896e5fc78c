"""News use cases on SQLite: statements from the liaison desk, review outcomes, publishing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from civicpulse.envelope import Envelope, new_event
from civicpulse.tables import outbox_table
from services.news import config, domain, items, queue, review_outcomes, statements
from services.news.config import NewsConfig

INCIDENT = "inc-0123456789ab"


@pytest.fixture
def uow(uow_factory: Any) -> Any:
    return uow_factory("news")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NewsConfig:
    """The configuration with only the filesystem channels enabled (no webhook URLs)."""
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    for name in ("NEWS_WEBHOOK_URL", "NEWS_WECHAT_URL", "NEWS_WEIBO_URL"):
        monkeypatch.delenv(name, raising=False)
    cfg = config.load()
    assert cfg.site_dir == (tmp_path / "var" / "site").resolve()
    return cfg


def approve_and_deliver(uow: Any, event: Envelope, cfg: NewsConfig) -> dict[str, Any] | None:
    result = review_outcomes.on_case_approved(uow(), event, cfg)
    queue.deliver_due(uow(), cfg)
    return result


def page_url(cfg: NewsConfig, item_id: str) -> str:
    return f"{cfg.site_url}/{item_id}.html"


def outbox(uow: Any) -> list[dict[str, Any]]:
    with uow() as u:
        rows = u.session.execute(select(outbox_table).order_by(outbox_table.c.id)).mappings()
        return [json.loads(r["body"]) | {"_exchange": r["exchange"]} for r in rows]


def statement_requested() -> Envelope:
    return new_event("liaison.statement.requested", {
        "ticket_id": "tkt-1", "incident_id": INCIDENT, "topic": "budget", "level": "III",
        "title": "预算公开信息更新不及时", "brief": "经核实，预算公开栏目更新因系统迁移推迟。",
        "due_at": "2026-03-05T10:00:00Z"}, correlation_id=INCIDENT, tlp="AMBER")


def review_event(type_: str, item: dict[str, Any], cause: Envelope | None = None,
                 **extra: Any) -> Envelope:
    payload = {"case_id": "case-1", "item_id": item["id"],
               "revision": item["current_revision"], **extra}
    return new_event(type_, payload, correlation_id=item["correlation_id"], caused_by=cause)


def approval(item: dict[str, Any], content_hash: str | None = None) -> Envelope:
    rev = item["revisions"][-1]
    return review_event("review.case.approved", item, reference_no="RD-2026-000001",
                        content_hash=content_hash or rev["content_hash"])


def test_statement_is_drafted_and_submitted_expedited(uow: Any) -> None:
    event = statement_requested()
    item_id = statements.draft_statement(uow(), event)
    item = items.get_item(uow(), item_id)
    assert item["kind"] == "statement" and item["status"] == "in_review"
    assert item["author"] == statements.LIAISON_DESK
    assert item["title"] == "关于预算公开信息更新不及时的情况说明"
    assert "预算公开栏目更新因系统迁移推迟" in item["body"]
    assert (item["correlation_id"], item["ticket_id"]) == (INCIDENT, "tkt-1")
    [sent] = outbox(uow)
    assert sent["type"] == "news.item.submitted" and sent["_exchange"] == "news.events"
    assert sent["correlation_id"] == INCIDENT and sent["causation_id"] == event.id
    p = sent["payload"]
    assert p["workflow"] == "expedited" and p["ticket_id"] == "tkt-1"
    assert p["content_hash"] == domain.content_hash(item["title"], item["body"])
    assert (p["item_id"], p["revision"], p["author"]) == (item_id, 1, "liaison-desk")


def test_duplicate_statement_request_has_one_effect(uow: Any) -> None:
    event = statement_requested()
    assert statements.draft_statement(uow(), event) is not None
    assert statements.draft_statement(uow(), event) is None
    assert len(items.list_items(uow(), {"correlation_id": INCIDENT})) == 1
    assert len(outbox(uow)) == 1


def submitted_statement(uow: Any) -> dict[str, Any]:
    return items.get_item(uow(), statements.draft_statement(uow(), statement_requested()))


def test_approval_publishes_once_even_when_redelivered(uow: Any, site: NewsConfig) -> None:
    item = submitted_statement(uow)
    event = approval(item)
    result = approve_and_deliver(uow, event, site)
    assert result is not None and result["reference_no"] == "RD-2026-000001"
    assert result["status"] == "approved" and result["channels"] == ["website"]
    assert approve_and_deliver(uow, event, site) is None
    again = approval(item)  # a second approval event for the same revision
    assert approve_and_deliver(uow, again, site) is None
    published = [e for e in outbox(uow) if e["type"] == "news.item.published"]
    assert len(published) == 1
    p = published[0]
    assert p["correlation_id"] == INCIDENT
    assert p["payload"]["channels"] == ["website"] and p["payload"]["ticket_id"] == "tkt-1"
    assert p["payload"]["urls"] == [page_url(site, item["id"])]
    assert p["payload"]["reference_no"] == "RD-2026-000001"
    after = items.get_item(uow(), item["id"])
    assert after["status"] == "published" and after["reference_no"] == "RD-2026-000001"
    assert [pub["channel"] for pub in after["publications"]] == ["website"]


def test_site_page_and_index_are_written(uow: Any, site: NewsConfig) -> None:
    item = submitted_statement(uow)
    approve_and_deliver(uow, approval(item), site)
    page = (site.site_dir / f"{item['id']}.html").read_text(encoding="utf-8")
    assert item["title"] in page and "RD-2026-000001" in page
    index = (site.site_dir / "index.html").read_text(encoding="utf-8")
    assert f'href="{item["id"]}.html"' in index


def test_html_is_escaped(uow: Any, site: NewsConfig) -> None:
    draft = items.create_item(uow(), {"kind": "article", "title": "<script>x</script>",
                                         "body": "a & b <b>", "author": "li", "column": None})
    items.submit_item(uow(), draft["id"])
    item = items.get_item(uow(), draft["id"])
    approve_and_deliver(uow, approval(item), site)
    page = (site.site_dir / f"{item['id']}.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "a &amp; b &lt;b&gt;" in page


def test_approval_of_other_content_publishes_nothing(uow: Any, site: NewsConfig) -> None:
    item = submitted_statement(uow)
    assert approve_and_deliver(uow, approval(item, "0" * 64), site) is None
    assert items.get_item(uow(), item["id"])["status"] == "in_review"
    assert not (site.site_dir / f"{item['id']}.html").exists()
    assert [e["type"] for e in outbox(uow)] == ["news.item.submitted"]


def test_approval_for_unknown_item_is_permanent(uow: Any, site: NewsConfig) -> None:
    ghost = {"id": "itm-ghost", "current_revision": 1, "correlation_id": "c",
             "revisions": [{"content_hash": "h"}]}
    with pytest.raises(review_outcomes.UnknownItem):
        review_outcomes.on_case_approved(uow(), approval(ghost), site)


def test_return_goes_back_to_draft_then_revise_and_resubmit(uow: Any) -> None:
    item = submitted_statement(uow)
    returned = review_event("review.case.returned", item, stage="section_head", comment="改")
    assert review_outcomes.on_case_returned(uow(), returned) == "draft"
    assert review_outcomes.on_case_returned(uow(), returned) is None
    with pytest.raises(domain.NotResubmittable):
        items.submit_item(uow(), item["id"])
    revised = items.revise_item(uow(), item["id"], item["title"], item["body"] + "\n\n补充。",
                                   "editor-zhou")
    assert revised["current_revision"] == 2 and len(revised["revisions"]) == 2
    resubmitted = items.submit_item(uow(), item["id"])
    assert resubmitted["status"] == "in_review"
    last = outbox(uow)[-1]
    assert last["payload"]["revision"] == 2 and last["payload"]["workflow"] == "default"
    assert last["correlation_id"] == INCIDENT
    # every revision records who wrote it, and review is told (separation of duties)
    assert [r["author"] for r in revised["revisions"]] == [item["author"], "editor-zhou"]
    assert last["version"] == 2 and last["payload"]["revision_authors"] == [
        {"revision": 1, "author": item["author"]}, {"revision": 2, "author": "editor-zhou"}]


def test_reject_is_final(uow: Any) -> None:
    item = submitted_statement(uow)
    rejected = review_event("review.case.rejected", item, stage="principal", comment="不发")
    assert review_outcomes.on_case_rejected(uow(), rejected) == "rejected"
    with pytest.raises(domain.InvalidTransition):
        items.submit_item(uow(), item["id"])


def test_stale_outcome_is_ignored(uow: Any) -> None:
    item = submitted_statement(uow)
    review_outcomes.on_case_returned(uow(), review_event("review.case.returned", item,
                                                  stage="section_head", comment="改"))
    late = review_event("review.case.rejected", item, stage="section_head", comment="迟到")
    assert review_outcomes.on_case_rejected(uow(), late) is None
    assert items.get_item(uow(), item["id"])["status"] == "draft"


def test_http_draft_lifecycle_and_filters(uow: Any) -> None:
    draft = items.create_item(uow(), {"kind": "notice", "title": "通知", "body": "正文",
                                         "column": "通知公告", "author": "zhou"})
    assert draft["status"] == "draft" and draft["correlation_id"] == draft["id"]
    assert draft["revisions"][0]["content_hash"] == domain.content_hash("通知", "正文")
    items.submit_item(uow(), draft["id"])
    assert [i["id"] for i in items.list_items(uow(), {"status": "in_review"})] == [draft["id"]]
    assert items.list_items(uow(), {"kind": "article"}) == []
    with pytest.raises(items.ItemNotFound):
        items.get_item(uow(), "itm-missing")
    with pytest.raises(domain.Locked):
        items.revise_item(uow(), draft["id"], "t", "b", "editor-zhou")


def test_a_v1_review_outcome_without_ticket_id_is_still_applied(uow: Any,
                                                                  site: NewsConfig) -> None:
    """Review now sends v2 (with `ticket_id`); v1 events queued before the upgrade still work."""
    item = submitted_statement(uow)
    rev = item["revisions"][-1]
    v1 = new_event("review.case.approved", {
        "case_id": "case-1", "item_id": item["id"], "revision": rev["number"],
        "reference_no": "RD-2026-000009", "content_hash": rev["content_hash"]},
        correlation_id=item["correlation_id"], version=1)
    assert v1.version == 1 and "ticket_id" not in v1.payload
    result = approve_and_deliver(uow, v1, site)
    assert result is not None and result["status"] == "approved"
    assert items.get_item(uow(), item["id"])["status"] == "published"
