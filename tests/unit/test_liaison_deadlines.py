"""Pure rules of deadlines, escalation chains, stronger plans, reopening and roles."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.liaison import config, domain
from services.liaison.domain import EscalationStep

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CHAIN = (EscalationStep(0, "leader_in_charge"), EscalationStep(30, "partner_lead"))


def test_first_step_notifies_the_leader_internally_and_schedules_the_next() -> None:
    f = domain.fire("acknowledge", 1, T0, CHAIN, {"acknowledged_at": None})
    assert (f.breached, f.notify, f.tlp, f.next_step) == (True, "leader_in_charge", "RED", 2)
    assert f.next_due == T0 + timedelta(minutes=30)


def test_last_step_tells_the_partners_and_ends_the_chain() -> None:
    f = domain.fire("resolve", 2, T0, CHAIN, {})
    assert (f.notify, f.tlp, f.next_step, f.next_due) == ("partner_lead", "AMBER", None, None)


def test_a_met_deadline_fires_nothing() -> None:
    f = domain.fire("first_response", 1, T0, CHAIN, {"first_response_at": T0})
    assert not f.breached and f.notify is None and f.next_step is None


def test_stronger_plan_tightens_but_never_loosens() -> None:
    later = T0 + timedelta(hours=5)
    assert domain.stronger_due(T0 + timedelta(hours=6), 30, later) == later + timedelta(
        minutes=30)
    assert domain.stronger_due(T0, 30, later) == T0


def test_missing_tasks_and_reopening() -> None:
    plan = config.load().plan.for_level("II")
    due = plan.deadlines.due_times(T0)
    drafts = domain.missing_tasks(["analysis", "statement"], plan, due, plan.lead_section)
    assert {d.code for d in drafts} == {"media_briefing", "cac_coordination"}
    assert domain.reopened("resolved") == "responding" == domain.reopened("closed")
    assert domain.reopened("responding") is None


@pytest.mark.parametrize(("role", "action", "ok"), [
    ("editor", "comment", True), ("editor", "transition", False),
    ("section_head", "transition", True), ("admin", "share", True), (None, "read", False),
    ("stranger", "read", False)])
def test_roles(role: str | None, action: str, ok: bool) -> None:
    assert domain.may(role, action) is ok


def test_plan_rejects_a_bad_chain() -> None:
    plan = config.load().plan
    bad = replace(plan.levels["IV"], escalation=(EscalationStep(30, "leader_in_charge"),
                                                 EscalationStep(0, "mayor")))
    problems = domain.plan_problems(domain.Plan({**plan.levels, "IV": bad}),
                                    config.load().directory)
    assert any("mayor" in p for p in problems) and any("increasing" in p for p in problems)
