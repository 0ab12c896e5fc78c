"""News rules without a database or a broker."""

from datetime import date

import pytest

from services.news import domain


@pytest.mark.parametrize(("status", "action", "target"), [
    ("draft", "submit", "in_review"),
    ("in_review", "approve", "approved"),
    ("approved", "publish", "published"),
    ("in_review", "return", "draft"),
    ("in_review", "reject", "rejected"),
])
def test_allowed_transitions(status: str, action: str, target: str) -> None:
    assert domain.transition(status, action) == target
    assert domain.can(status, action)


@pytest.mark.parametrize(("status", "action"), [
    ("draft", "publish"), ("draft", "approve"), ("in_review", "publish"),
    ("in_review", "submit"), ("approved", "submit"), ("published", "publish"),
    ("published", "return"), ("rejected", "submit"), ("rejected", "approve"),
    ("approved", "return"), ("draft", "unknown"),
])
def test_refused_transitions(status: str, action: str) -> None:
    with pytest.raises(domain.InvalidTransition):
        domain.transition(status, action)
    assert not domain.can(status, action)


def test_every_status_is_reachable_from_draft() -> None:
    reached = {"draft"}
    for _ in range(len(domain.STATUSES)):
        reached |= {t for moves in domain.TRANSITIONS.values()
                    for s, t in moves.items() if s in reached}
    assert reached == set(domain.STATUSES)


def test_content_hash_is_sha256_of_title_and_body() -> None:
    h = domain.content_hash("标题", "正文")
    assert len(h) == 64 and h == domain.content_hash("标题", "正文")
    assert h != domain.content_hash("标题", "正文。")
    assert domain.content_hash("ab", "c") != domain.content_hash("a", "bc")


def test_a_revision_is_submitted_once() -> None:
    assert domain.check_submit("draft", 1, None) == "in_review"
    with pytest.raises(domain.NotResubmittable):
        domain.check_submit("draft", 1, 1)
    assert domain.check_submit("draft", 2, 1) == "in_review"
    with pytest.raises(domain.InvalidTransition):
        domain.check_submit("in_review", 2, 1)


def test_only_drafts_are_revised() -> None:
    domain.check_revise("draft")
    for status in ("in_review", "approved", "published", "rejected"):
        with pytest.raises(domain.InvalidTransition):
            domain.check_revise(status)


def test_approval_must_match_the_current_revision() -> None:
    assert domain.check_approval("in_review", "h1", "h1") == "approved"
    with pytest.raises(domain.StaleApproval):
        domain.check_approval("in_review", "h2", "h1")
    with pytest.raises(domain.InvalidTransition):
        domain.check_approval("draft", "h1", "h1")


def test_only_the_approved_revision_is_published() -> None:
    assert domain.check_publish("approved", "h1", "h1") == "published"
    with pytest.raises(domain.StaleApproval):
        domain.check_publish("approved", "h2", "h1")
    with pytest.raises(domain.StaleApproval):
        domain.check_publish("approved", "h1", None)
    with pytest.raises(domain.InvalidTransition):
        domain.check_publish("in_review", "h1", "h1")


@pytest.mark.parametrize(("given", "expected"), [
    ("预算执行情况", "关于预算执行情况的情况说明"),
    ("关于预算执行情况", "关于预算执行情况的情况说明"),
    ("关于预算执行情况的情况说明", "关于预算执行情况的情况说明"),
])
def test_statement_title(given: str, expected: str) -> None:
    assert domain.statement_title(given) == expected


def test_statement_body_uses_the_brief_and_signs_off() -> None:
    body = domain.statement_body(title="代表信箱回复延迟", brief="经核实，系统升级导致回复延迟。",
                                 topic="deputies", level="IV", on=date(2026, 3, 5))
    assert "经核实，系统升级导致回复延迟。" in body
    assert "代表工作" in body
    assert body.endswith("市人大常委会办公室\n2026年3月5日")
    serious = domain.statement_body(title="x", brief="y", topic="unknown-topic", level="I",
                                    on=date(2026, 3, 5))
    assert "主要负责同志" in serious and "unknown-topic" in serious
