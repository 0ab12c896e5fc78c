"""News rules without a database or a broker."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.news import domain, messages


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


def test_editing_keeps_drafts_and_sends_approved_items_back_to_review() -> None:
    assert domain.check_revise("draft") == "draft"
    assert domain.check_revise("approved") == "in_review"
    assert domain.check_revise("scheduled") == "in_review"
    with pytest.raises(domain.Locked, match="locked while in review"):
        domain.check_revise("in_review")
    for status in ("published", "corrected", "retracted", "rejected", "expired"):
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
    assert messages.statement_title(given) == expected


def test_statement_body_uses_the_brief_and_signs_off() -> None:
    body = messages.statement_body(title="代表信箱回复延迟", brief="经核实，系统升级导致回复延迟。",
                                 topic="deputies", level="IV", on=date(2026, 3, 5))
    assert "经核实，系统升级导致回复延迟。" in body
    assert "代表工作" in body
    assert body.endswith("市人大常委会办公室\n2026年3月5日")
    serious = messages.statement_body(title="x", brief="y", topic="unknown-topic", level="I",
                                    on=date(2026, 3, 5))
    assert "主要负责同志" in serious and "unknown-topic" in serious


NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("status", "action", "target"), [
    ("approved", "schedule", "scheduled"), ("scheduled", "publish", "published"),
    ("published", "correct", "corrected"), ("corrected", "correct", "corrected"),
    ("corrected", "retract", "retracted"), ("published", "retract", "retracted"),
    ("retracted", "expire", "expired"), ("published", "expire", "expired"),
])
def test_after_publication(status: str, action: str, target: str) -> None:
    assert domain.transition(status, action) == target


@pytest.mark.parametrize(("status", "action"), [
    ("draft", "correct"), ("approved", "retract"), ("retracted", "correct"),
    ("draft", "expire"), ("in_review", "expire"), ("expired", "expire"), ("draft", "schedule"),
])
def test_refused_after_publication(status: str, action: str) -> None:
    with pytest.raises(domain.InvalidTransition):
        domain.transition(status, action)


def test_embargo_schedules_only_a_future_publication() -> None:
    assert domain.after_approval(None, NOW) == "approved"
    assert domain.after_approval(NOW - timedelta(minutes=1), NOW) == "approved"
    assert domain.after_approval(NOW + timedelta(minutes=1), NOW) == "scheduled"


def test_retry_backoff_doubles_caps_and_gives_up() -> None:
    policy = domain.RetryPolicy(max_attempts=4, base_seconds=2, max_seconds=5)
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 5, 5]
    assert domain.after_failure(policy, 1, NOW) == ("pending", NOW + timedelta(seconds=2))
    assert domain.after_failure(policy, 3, NOW) == ("pending", NOW + timedelta(seconds=5))
    assert domain.after_failure(policy, 4, NOW) == ("failed", None)


def test_expiry_date_from_column_age_time_sensitivity_and_validity() -> None:
    assert domain.expires_at(NOW, 365) == NOW + timedelta(days=365)
    assert domain.expires_at(NOW, 365, time_sensitive=True, time_sensitive_days=30) == (
        NOW + timedelta(days=30))
    assert domain.expires_at(NOW, 365, time_sensitive=False, time_sensitive_days=30) == (
        NOW + timedelta(days=365))
    assert domain.expires_at(NOW, 365, valid_until=NOW + timedelta(days=3)) == (
        NOW + timedelta(days=3))


def test_sweep_notifies_then_expires_after_grace() -> None:
    grace = timedelta(hours=72)
    past = NOW - timedelta(days=1)
    assert domain.sweep_step("published", NOW + timedelta(days=1), None, grace, NOW) is None
    assert domain.sweep_step("published", past, None, grace, NOW) == "notify"
    assert domain.sweep_step("published", past, NOW - timedelta(hours=71), grace, NOW) is None
    assert domain.sweep_step("corrected", past, NOW - timedelta(hours=72), grace, NOW) == "expire"
    assert domain.sweep_step("draft", past, None, grace, NOW) is None
    assert domain.sweep_step("expired", past, past, grace, NOW) is None
    assert domain.sweep_step("published", None, None, grace, NOW) is None


def test_plan_entry_states_and_months() -> None:
    today = date(2026, 3, 10)
    assert domain.plan_entry_state(date(2026, 3, 9), None, today) == "late"
    assert domain.plan_entry_state(date(2026, 3, 9), "in_review", today) == "late"
    assert domain.plan_entry_state(date(2026, 3, 10), "draft", today) == "planned"
    assert domain.plan_entry_state(date(2026, 3, 1), "published", today) == "done"
    assert domain.month_of("2026-03") == (2026, 3)
    for bad in ("2026-13", "26-03", "2026-3"):
        with pytest.raises(ValueError):
            domain.month_of(bad)


def test_reply_deadline() -> None:
    assert domain.reply_due(NOW, 24) == NOW + timedelta(hours=24)


# --- who may do what -------------------------------------------------------------------------

@pytest.mark.parametrize("role", domain.STAFF_ROLES)
@pytest.mark.parametrize("action", ["create", "edit", "submit", "plan", "stats", "comments",
                                    "reply"])
def test_every_staff_role_does_desk_work(role: str, action: str) -> None:
    assert domain.may(role, action)


@pytest.mark.parametrize("action", ["correct", "retract", "restore", "embargo",
                                    "override_expiry"])
def test_going_live_or_changing_expiry_needs_section_head_or_above(action: str) -> None:
    assert [r for r in domain.STAFF_ROLES if domain.may(r, action)] == [
        "section_head", "leader_in_charge", "principal", "admin"]


def test_no_role_and_unknown_roles_or_actions_may_nothing() -> None:
    assert not domain.may(None, "create")
    assert not domain.may("citizen", "create")
    assert not domain.may("admin", "delete_everything")


def test_creating_with_an_embargo_or_expiry_counts_as_those_actions() -> None:
    assert domain.create_actions({"publish_at": None}) == ("create",)
    assert domain.create_actions({"publish_at": 1, "valid_until": 2}) == (
        "create", "embargo", "override_expiry")


@pytest.mark.parametrize("status, at_once", [("draft", False), ("in_review", False),
                                             ("approved", True), ("scheduled", True)])
def test_an_embargo_may_be_set_before_publication_and_takes_effect_at_once_once_approved(
        status: str, at_once: bool) -> None:
    assert domain.check_embargo(status) is at_once


@pytest.mark.parametrize("status", ["published", "corrected", "retracted", "rejected", "expired"])
def test_no_embargo_on_an_item_that_is_or_was_live_or_rejected(status: str) -> None:
    with pytest.raises(domain.InvalidTransition):
        domain.check_embargo(status)


def test_a_queued_delivery_applies_only_while_the_item_is_in_a_state_it_serves() -> None:
    assert domain.delivery_applies("publish", "approved")
    assert domain.delivery_applies("publish", "corrected")
    assert not domain.delivery_applies("publish", "draft")
    assert not domain.delivery_applies("publish", "retracted")
    assert domain.delivery_applies("retract", "retracted")
    assert not domain.delivery_applies("correct", "published")
    assert domain.is_first_publication("publish", "scheduled")
    assert not domain.is_first_publication("publish", "published")
    assert not domain.is_first_publication("correct", "approved")


def test_review_outcomes_apply_only_to_the_reviewed_revision_still_in_review() -> None:
    assert domain.review_applies("in_review", 2, 2)
    assert not domain.review_applies("in_review", 3, 2)
    assert not domain.review_applies("draft", 2, 2)


def test_restoring_an_archived_item() -> None:
    domain.check_restore("expired")
    with pytest.raises(domain.InvalidTransition):
        domain.check_restore("published")
    assert domain.restore_action("retracted") == "retract"
    assert domain.restore_action("published") == "publish"
    assert domain.expiry_reason(True) != domain.expiry_reason(False)
