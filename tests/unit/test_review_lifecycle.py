"""Review use cases on SQLite beyond the happy path: pre-check findings, resubmission after a
return, deadlines and escalation to the active staff identity lists, the append-only audit log."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError

from civicpulse.envelope import Envelope, new_event, utcnow
from civicpulse.tables import outbox_table
from services.review import audit, config, db, domain, handlers, metrics

OK = {"accuracy": True, "orientation": True, "format": True}
INC = "inc-lifecycle"


@pytest.fixture
def uow(uow_factory: Any) -> Any:
    return uow_factory("review")


@pytest.fixture
def cfg() -> config.ReviewConfig:
    return config.load()


PEOPLE = {"wang": "section_head", "qian": "leader_in_charge", "zhao": "principal",
          "zhou": "principal", "chen": "section_head"}


@pytest.fixture
def staff() -> dict[str, domain.Reviewer]:
    """The reviewers as the identity service knows them (the HTTP entrypoint's caller)."""
    return {name: domain.Reviewer(name, role) for name, role in PEOPLE.items()}


def directory(*disabled: str) -> Any:
    """identity's staff directory (active accounts only), as review's sweep asks for it."""
    return lambda: [{"name": n, "role": r, "section": None, "email": None, "im_id": None}
                    for n, r in sorted(PEOPLE.items()) if n not in disabled]


def submitted(revision: int = 1, body: str = "<p>正文</p>", workflow: str = "default",
              title: str = "关于代表信箱的情况说明",
              revision_authors: list[dict[str, Any]] | None = None) -> Envelope:
    return new_event("news.item.submitted", {
        "item_id": "itm-7", "revision": revision, "kind": "statement", "title": title,
        "body": body, "author": "editor-li", "content_hash": f"{revision:064d}",
        "workflow": workflow, "revision_authors": revision_authors or []},
        correlation_id=INC, tlp="AMBER")


def events(uow: Any, type_: str | None = None) -> list[dict[str, Any]]:
    with uow() as u:
        rows = u.session.execute(select(outbox_table.c.body).order_by(outbox_table.c.id))
        found = [json.loads(b) for (b,) in rows]
    return [e for e in found if type_ in (None, e["type"])]


def decide(uow: Any, cfg: config.ReviewConfig, case_id: str, reviewer: domain.Reviewer,
           decision: str = "approve", comment: str | None = None) -> dict[str, Any]:
    body = {"decision": decision, "checklist": OK if decision == "approve" else None,
            "comment": comment}
    return handlers.decide(uow(), case_id, reviewer, body, cfg)


def test_findings_are_stored_shown_and_blocking_ones_forbid_approval(
        uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer]) -> None:
    case_id = handlers.open_case(uow(), submitted(body="<p>内部资料 网传</p><img src=a.png>"), cfg)
    case = handlers.get_case(uow(), case_id)
    assert case["blocked"] is True
    assert sorted((f["rule"], f["severity"]) for f in case["findings"]) == [
        ("image_alt", "warning"), ("lexicon", "blocking"), ("lexicon", "warning")]
    opened = events(uow, "review.case.opened")[0]["payload"]
    assert (opened["blocking_findings"], opened["warnings"]) == (1, 2)
    with pytest.raises(domain.BlockedByFindings) as info:
        decide(uow, cfg, case_id, staff["wang"])
    assert [f["rule"] for f in info.value.findings] == ["lexicon"]
    assert decide(uow, cfg, case_id, staff["wang"], "return", "删去内部资料")["status"] == \
        "returned"
    clean = handlers.open_case(uow(), submitted(revision=2), cfg)
    assert decide(uow, cfg, clean, staff["wang"])["stage"] == "leader_in_charge"


def test_a_resubmission_resumes_at_the_returning_stage_with_approvals_carried(
        uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer]) -> None:
    first = handlers.open_case(uow(), submitted(), cfg)
    decide(uow, cfg, first, staff["wang"])
    decide(uow, cfg, first, staff["qian"])
    decide(uow, cfg, first, staff["zhao"], "return", "第二段表述不准确")
    second = handlers.open_case(uow(), submitted(revision=2), cfg)
    case = handlers.get_case(uow(), second)
    assert (case["stage"], case["entry_stage"], case["resumed_from"]) == (
        "principal", "principal", first)
    assert [(d["stage"], d["reviewer"], d["carried_from"]) for d in case["decisions"]] == [
        ("section_head", "wang", first), ("leader_in_charge", "qian", first)]
    assert events(uow, "review.case.opened")[-1]["payload"]["carried_approvals"] == [
        "section_head", "leader_in_charge"]
    assert decide(uow, cfg, second, staff["zhao"])["status"] == "approved"
    carried = [a for a in case["audit"] if a["action"] == "approval_carried"]
    assert [a["detail"]["from_content_hash"] for a in carried] == ["0" * 63 + "1"] * 2


def test_resume_at_first_starts_over(uow: Any, cfg: config.ReviewConfig,
                                     staff: dict[str, domain.Reviewer]) -> None:
    workflows = dict(cfg.workflows)
    workflows["default"] = domain.Workflow("default", resume_at="first")
    first_cfg = config.ReviewConfig(workflows, cfg.reference_prefix, cfg.timezone,
                                    cfg.prechecker)
    first = handlers.open_case(uow(), submitted(), first_cfg)
    decide(uow, first_cfg, first, staff["wang"])
    decide(uow, first_cfg, first, staff["qian"], "return", "请补充数据来源")
    second = handlers.get_case(uow(), handlers.open_case(uow(), submitted(revision=2), first_cfg))
    assert second["stage"] == "section_head" and second["decisions"] == []


def test_a_rejected_item_does_not_resume(uow: Any, cfg: config.ReviewConfig,
                                         staff: dict[str, domain.Reviewer]) -> None:
    first = handlers.open_case(uow(), submitted(), cfg)
    decide(uow, cfg, first, staff["wang"])
    decide(uow, cfg, first, staff["qian"], "reject", "不宜发布")
    second = handlers.get_case(uow(), handlers.open_case(uow(), submitted(revision=2), cfg))
    assert second["stage"] == "section_head" and second["resumed_from"] is None


def test_overdue_stages_are_claimed_once_and_escalated(
        uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer]) -> None:
    active = directory("zhou")  # zhou's account is disabled: identity does not list it
    case_id = handlers.open_case(uow(), submitted(workflow="expedited"), cfg)
    due = handlers.get_case(uow(), case_id)["stage_due_at"]
    before = metrics.overdue.labels("section_head")._value.get()
    assert handlers.sweep_overdue(uow(), active, utcnow() + timedelta(minutes=29)) == []
    later = utcnow() + timedelta(minutes=31)
    assert handlers.sweep_overdue(uow(), active, later) == [case_id]
    assert handlers.sweep_overdue(uow(), active, later + timedelta(minutes=5)) == []
    assert metrics.overdue.labels("section_head")._value.get() == before + 1
    [overdue] = events(uow, "review.stage.overdue")
    assert overdue["payload"]["stage"] == "section_head" and overdue["payload"]["due_at"] == due
    assert overdue["payload"]["escalated_to"] == ["chen", "wang", "zhao"]
    assert overdue["correlation_id"] == INC
    case = handlers.get_case(uow(), case_id)
    [esc] = case["escalations"]
    assert esc["roles"] == ["section_head", "principal"] and esc["notified"] == [
        "chen", "wang", "zhao"]
    assert any(a["action"] == "overdue" and a["actor"] == "deadline" for a in case["audit"])
    # the next stage has its own deadline and can go overdue once in its turn
    decide(uow, cfg, case_id, staff["wang"])
    assert handlers.sweep_overdue(uow(), active, utcnow() + timedelta(minutes=31)) == [case_id]
    assert [e["payload"]["stage"] for e in events(uow, "review.stage.overdue")] == [
        "section_head", "leader_in_charge"]


def test_default_workflow_never_goes_overdue(uow: Any, cfg: config.ReviewConfig) -> None:
    handlers.open_case(uow(), submitted(), cfg)
    assert handlers.sweep_overdue(uow(), directory(), utcnow() + timedelta(days=30)) == []


def test_audit_log_records_everything_and_refuses_updates_and_deletes(
        uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer]) -> None:
    case_id = handlers.open_case(uow(), submitted(body="<p>网传</p>"), cfg)
    decide(uow, cfg, case_id, staff["wang"])
    decide(uow, cfg, case_id, staff["qian"], "return", "口径需再核实")
    rows = handlers.audit_export(uow(), {"case_id": case_id})
    assert [(r["actor"], r["action"], r["stage"]) for r in rows] == [
        ("editor-li", "submitted", "section_head"), ("precheck", "prechecked", None),
        ("wang", "approve", "section_head"), ("qian", "return", "leader_in_charge")]
    assert rows[-1]["comment"] == "口径需再核实" and rows[-1]["content_hash"] == "0" * 63 + "1"
    assert rows[2]["detail"] == {"checklist": OK}
    csv_text = audit.to_csv(rows)
    assert csv_text.splitlines()[0].startswith("id,at,actor,action,case_id")
    assert "口径需再核实" in csv_text and len(csv_text.splitlines()) == 5
    for statement in (update(db.audit_log).values(comment="rewritten"), delete(db.audit_log)):
        with uow() as u, pytest.raises(DatabaseError, match="append-only"):
            u.session.execute(statement)
    assert len(handlers.audit_export(uow(), {})) == 4


def test_whoever_wrote_any_revision_never_decides_any_stage(
        uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer]) -> None:
    """A section head who rewrote an editor's item cannot approve it at stage 1 (nor may the
    leader who wrote revision 2 decide stage 2); the audit log records who wrote what."""
    authors = [{"revision": 1, "author": "editor-li"}, {"revision": 2, "author": "wang"},
               {"revision": 3, "author": "qian"}]
    case_id = handlers.open_case(uow(), submitted(revision=3, revision_authors=authors), cfg)
    for decision, comment in (("approve", None), ("return", "改"), ("reject", "否")):
        with pytest.raises(domain.NotPermitted, match="wrote a revision"):
            decide(uow, cfg, case_id, staff["wang"], decision, comment)
    decide(uow, cfg, case_id, staff["chen"])  # another section head
    with pytest.raises(domain.NotPermitted, match="wrote a revision"):
        decide(uow, cfg, case_id, staff["qian"])
    [entry] = [a for a in handlers.get_case(uow(), case_id)["audit"] if a["action"] == "submitted"]
    assert entry["detail"]["revision_authors"] == authors


def test_a_version_1_submission_is_still_accepted(uow: Any, cfg: config.ReviewConfig,
                                                  staff: dict[str, domain.Reviewer]) -> None:
    event = new_event("news.item.submitted", {
        "item_id": "itm-8", "revision": 1, "kind": "statement", "title": "关于代表信箱的情况说明",
        "body": "<p>正文</p>", "author": "wang", "content_hash": "0" * 64},
        correlation_id=INC, version=1)
    case_id = handlers.open_case(uow(), event, cfg)
    with pytest.raises(domain.NotPermitted, match="author"):
        decide(uow, cfg, case_id, staff["wang"])
    assert decide(uow, cfg, case_id, staff["chen"])["stage"] == "leader_in_charge"


def test_audit_csv_defuses_spreadsheet_formulas(uow: Any, cfg: config.ReviewConfig,
                                                 staff: dict[str, domain.Reviewer]) -> None:
    """A comment like `=HYPERLINK(...)` must open as text, not run, in a spreadsheet."""
    case_id = handlers.open_case(uow(), submitted(), cfg)
    decide(uow, cfg, case_id, staff["wang"], "return", '=HYPERLINK("http://x.example","点击")')
    rows = handlers.audit_export(uow(), {"case_id": case_id})
    lines = list(csv.DictReader(io.StringIO(audit.to_csv(rows))))
    assert lines[-1]["comment"] == "'=HYPERLINK(\"http://x.example\",\"点击\")"
    assert [audit.defuse(v) for v in ("+1", "-2", "@cmd", "\tx", "ok", 7)] == [
        "'+1", "'-2", "'@cmd", "'\tx", "ok", 7]


def test_gauges_per_stage(uow: Any, cfg: config.ReviewConfig,
                          staff: dict[str, domain.Reviewer]) -> None:
    a = handlers.open_case(uow(), submitted(), cfg)
    handlers.open_case(uow(), new_event("news.item.submitted", {
        **submitted().payload, "item_id": "itm-8"}, correlation_id=INC), cfg)
    decide(uow, cfg, a, staff["wang"])
    handlers.refresh_open_gauge(uow())
    assert metrics.queue_depth.labels("section_head")._value.get() == 1
    assert metrics.queue_depth.labels("leader_in_charge")._value.get() == 1
    assert metrics.queue_depth.labels("principal")._value.get() == 0
    assert metrics.time_in_stage.labels("section_head")._sum.get() >= 0
