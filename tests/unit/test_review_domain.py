"""Review rules without a database or a broker."""

from datetime import UTC, datetime, timedelta

import pytest

from services.review import domain
from services.review.domain import CaseState, PastDecision, Reviewer, Workflow

DEFAULT = Workflow("default")
EXPEDITED = Workflow("expedited", deadline_minutes={"section_head": 30, "principal": 60})
OK = {"accuracy": True, "orientation": True, "format": True}


def case(stage: str = "section_head", status: str = "open", author: str = "li.ming") -> CaseState:
    return CaseState(status=status, stage=stage, author=author)


def decide(c: CaseState, who: Reviewer, decision: str = "approve", comment: str | None = None,
           checklist: dict | None = None, history: list[PastDecision] | None = None
           ) -> domain.Outcome:
    return domain.decide(c, DEFAULT, who, decision, comment,
                         OK if checklist is None else checklist, history or [])


def test_stages_in_order_then_approved() -> None:
    assert DEFAULT.first_stage == "section_head"
    assert DEFAULT.next_stage("section_head") == "leader_in_charge"
    assert DEFAULT.next_stage("leader_in_charge") == "principal"
    assert DEFAULT.next_stage("principal") is None


def test_approve_moves_to_the_next_stage() -> None:
    out = decide(case(), Reviewer("wang", "section_head"))
    assert (out.stage, out.next_stage, out.status, out.case_approved) == (
        "section_head", "leader_in_charge", "open", False)


def test_approve_at_principal_approves_the_case() -> None:
    out = decide(case("principal"), Reviewer("zhao", "principal"))
    assert out.next_stage is None and out.status == "approved" and out.case_approved


@pytest.mark.parametrize(("decision", "status"), [("return", "returned"), ("reject", "rejected")])
def test_return_and_reject_close_the_case(decision: str, status: str) -> None:
    out = decide(case("leader_in_charge"), Reviewer("qian", "leader_in_charge"), decision,
                 comment="口径需核实", checklist={})
    assert out.status == status and out.next_stage is None and not out.case_approved


@pytest.mark.parametrize("role", ["leader_in_charge", "principal", "editor", "admin"])
def test_role_must_match_the_stage(role: str) -> None:
    with pytest.raises(domain.NotPermitted):
        decide(case("section_head"), Reviewer("sun", role))


def test_the_author_never_reviews_the_item() -> None:
    with pytest.raises(domain.NotPermitted, match="author"):
        decide(case(author="Wang "), Reviewer("wang", "section_head"))
    with pytest.raises(domain.NotPermitted, match="author"):
        decide(case(author="wang"), Reviewer("wang", "section_head"), "reject", comment="x")


def test_one_person_never_approves_two_stages() -> None:
    history = [PastDecision("section_head", "wang", "approve")]
    with pytest.raises(domain.NotPermitted, match="two stages"):
        decide(case("leader_in_charge"), Reviewer("wang", "leader_in_charge"), history=history)
    out = decide(case("leader_in_charge"), Reviewer("qian", "leader_in_charge"), history=history)
    assert out.next_stage == "principal"


@pytest.mark.parametrize("status", ["approved", "returned", "rejected"])
def test_a_closed_case_conflicts(status: str) -> None:
    with pytest.raises(domain.CaseClosed):
        decide(case(status=status), Reviewer("wang", "section_head"))


def test_closed_is_reported_before_permission() -> None:
    with pytest.raises(domain.CaseClosed):
        decide(case(status="approved"), Reviewer("x", "editor"))


@pytest.mark.parametrize("decision", ["return", "reject"])
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_return_and_reject_need_a_comment(decision: str, comment: str | None) -> None:
    with pytest.raises(domain.InvalidDecision, match="comment"):
        decide(case(), Reviewer("wang", "section_head"), decision, comment=comment)


@pytest.mark.parametrize("checklist", [
    {}, {"accuracy": True, "orientation": True},
    {"accuracy": True, "orientation": False, "format": True},
    {"accuracy": "yes", "orientation": True, "format": True},
])
def test_approve_needs_the_whole_checklist(checklist: dict) -> None:
    with pytest.raises(domain.InvalidDecision, match="checklist"):
        decide(case(), Reviewer("wang", "section_head"), checklist=checklist)


def test_approve_without_any_checklist_is_refused() -> None:
    with pytest.raises(domain.InvalidDecision):
        domain.decide(case(), DEFAULT, Reviewer("wang", "section_head"), "approve", None, None,
                      [])


def test_unknown_decision_is_invalid() -> None:
    with pytest.raises(domain.InvalidDecision):
        decide(case(), Reviewer("wang", "section_head"), "maybe")


def test_reference_numbers() -> None:
    assert domain.reference_number("RD", 2026, 123) == "RD-2026-000123"
    assert domain.reference_number("RD", 2026, 1) < domain.reference_number("RD", 2026, 2)
    with pytest.raises(ValueError):
        domain.reference_number("RD", 2026, 0)


def test_expedited_deadlines() -> None:
    t = datetime(2026, 1, 1, 8, tzinfo=UTC)
    assert EXPEDITED.due_at("section_head", t) == t + timedelta(minutes=30)
    assert EXPEDITED.due_at("leader_in_charge", t) is None
    assert DEFAULT.due_at("principal", t) is None


@pytest.mark.parametrize(("stages", "deadlines"), [
    ((), {}), (("principal", "section_head"), {}), (("section_head", "section_head"), {}),
    (("section_head", "mayor"), {}), (("section_head",), {"principal": 5}),
])
def test_workflow_validation(stages: tuple, deadlines: dict) -> None:
    with pytest.raises(ValueError):
        Workflow("bad", stages, deadlines)


def test_shipped_config_validates() -> None:
    from services.review import config

    cfg = config.load()
    assert set(cfg.workflows) >= {"default", "expedited"}
    assert cfg.workflows["expedited"].deadline_minutes["section_head"] > 0
    assert cfg.reference_prefix == "RD"


def test_deadlines_in_seconds_or_minutes() -> None:
    wf = Workflow("fast", deadline_seconds={"section_head": 1}, deadline_minutes={"principal": 30})
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    assert wf.due_at("section_head", t0) == t0 + timedelta(seconds=1)
    assert wf.due_at("principal", t0) == t0 + timedelta(minutes=30)
    assert wf.due_at("leader_in_charge", t0) is None
    with pytest.raises(ValueError, match="minutes or seconds"):
        Workflow("both", deadline_seconds={"principal": 1}, deadline_minutes={"principal": 1})


def test_resume_at_same_or_first() -> None:
    assert Workflow("s", resume_at="same").resume_stage("principal") == "principal"
    assert Workflow("f", resume_at="first").resume_stage("principal") == "section_head"
    assert Workflow("s").resume_stage(None) == "section_head"
    assert Workflow("short", stages=("section_head", "principal")).resume_stage(
        "leader_in_charge") == "section_head"
    with pytest.raises(ValueError, match="resume_at"):
        Workflow("x", resume_at="middle")


def test_carried_approvals_are_those_before_the_resume_stage() -> None:
    past = [PastDecision("section_head", "wang", "approve"),
            PastDecision("leader_in_charge", "qian", "approve"),
            PastDecision("principal", "zhao", "return")]
    assert domain.carried_approvals(DEFAULT, "principal", past) == past[:2]
    assert domain.carried_approvals(DEFAULT, "leader_in_charge", past) == past[:1]
    assert domain.carried_approvals(DEFAULT, "section_head", past) == []


def test_a_carried_approver_cannot_approve_a_later_stage() -> None:
    carried = [PastDecision("section_head", "wang", "approve")]
    with pytest.raises(domain.NotPermitted, match="two stages"):
        decide(case("leader_in_charge"), Reviewer("wang", "leader_in_charge"), history=carried)


def test_blocking_findings_forbid_approval_but_not_return() -> None:
    blocking = [{"rule": "lexicon", "severity": "blocking", "message": "m", "excerpt": ""}]
    with pytest.raises(domain.BlockedByFindings) as info:
        domain.decide(case(), DEFAULT, Reviewer("wang", "section_head"), "approve", None, OK, [],
                      blocking)
    assert info.value.findings == blocking
    out = domain.decide(case(), DEFAULT, Reviewer("wang", "section_head"), "return", "改", None,
                        [], blocking)
    assert out.status == "returned"


def test_escalation_goes_to_the_stage_and_the_principal() -> None:
    assert domain.escalation_roles("section_head") == ("section_head", "principal")
    assert domain.escalation_roles("principal") == ("principal",)


def test_a_resubmission_resumes_where_the_last_return_happened() -> None:
    assert domain.returned_at([("section_head", "approve"), ("leader_in_charge", "return")],
                              "principal") == "leader_in_charge"
    assert domain.returned_at([("section_head", "approve")], "principal") == "principal"
    assert domain.is_blocking("blocking") and not domain.is_blocking("warning")


def test_the_stage_names_come_from_the_review_contract() -> None:
    from civicpulse.contracts.review import STAGE_NAMES, STAGES

    assert domain.STAGES is STAGES and set(STAGE_NAMES) == set(STAGES)
