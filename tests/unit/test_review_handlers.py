"""Review use cases on SQLite: opening cases, stage decisions, reference numbers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from civicpulse.envelope import Envelope, new_event
from civicpulse.tables import outbox_table
from services.review import config, domain, handlers

INCIDENT = "inc-0123456789ab"
OK = {"accuracy": True, "orientation": True, "format": True}


@pytest.fixture
def uow(uow_factory: Any) -> Any:
    return uow_factory("review")


@pytest.fixture
def cfg() -> config.ReviewConfig:
    return config.load()


@pytest.fixture
def staff() -> dict[str, domain.Reviewer]:
    """The reviewers as the identity service answers for them (the entrypoint's caller)."""
    people = {"wang": "section_head", "qian": "leader_in_charge", "zhao": "principal",
              "sun": "editor", "liaison-desk": "section_head"}
    return {name: domain.Reviewer(name, role) for name, role in people.items()}


def outbox(uow: Any) -> list[dict[str, Any]]:
    with uow() as u:
        rows = u.session.execute(select(outbox_table).order_by(outbox_table.c.id)).mappings()
        return [json.loads(r["body"]) for r in rows]


def submitted(item_id: str = "itm-1", revision: int = 1, workflow: str = "expedited"
              ) -> Envelope:
    return new_event("news.item.submitted", {
        "item_id": item_id, "revision": revision, "kind": "statement",
        "title": "关于某事的情况说明", "body": "正文", "author": "liaison-desk",
        "content_hash": "a" * 64, "workflow": workflow, "ticket_id": "tkt-1",
    }, correlation_id=INCIDENT, tlp="AMBER")


def opened(uow: Any, cfg: config.ReviewConfig, **kw: Any) -> str:
    case_id = handlers.open_case(uow(), submitted(**kw), cfg)
    assert case_id is not None
    return case_id


def approve(uow: Any, cfg: config.ReviewConfig, case_id: str, reviewer: domain.Reviewer
            ) -> dict[str, Any]:
    return handlers.decide(uow(), case_id, reviewer, {"decision": "approve", "checklist": OK},
                           cfg)


def test_submission_opens_one_case(uow: Any, cfg: config.ReviewConfig) -> None:
    event = submitted()
    case_id = handlers.open_case(uow(), event, cfg)
    assert handlers.open_case(uow(), event, cfg) is None
    case = handlers.get_case(uow(), case_id)
    assert (case["status"], case["stage"], case["workflow"]) == ("open", "section_head",
                                                                 "expedited")
    assert case["stage_due_at"] is not None and case["correlation_id"] == INCIDENT
    [sent] = outbox(uow)
    assert sent["type"] == "review.case.opened" and sent["causation_id"] == event.id
    assert sent["correlation_id"] == INCIDENT and sent["payload"]["stage"] == "section_head"


def test_same_revision_under_a_new_event_id_is_not_a_second_case(
        uow: Any, cfg: config.ReviewConfig) -> None:
    opened(uow, cfg)
    assert handlers.open_case(uow(), submitted(), cfg) is None
    assert len(handlers.list_cases(uow(), {"item_id": "itm-1"})) == 1
    assert len(outbox(uow)) == 1
    assert handlers.open_case(uow(), submitted(revision=2), cfg) is not None


def test_unknown_workflow_is_dead_lettered(uow: Any, cfg: config.ReviewConfig) -> None:
    with pytest.raises(handlers.UnknownWorkflow):
        handlers.open_case(uow(), submitted(workflow="leisurely"), cfg)


def test_three_approvals_approve_the_case(uow: Any, cfg: config.ReviewConfig,
                                          staff: dict[str, domain.Reviewer]) -> None:
    case_id = opened(uow, cfg)
    approve(uow, cfg, case_id, staff["wang"])
    approve(uow, cfg, case_id, staff["qian"])
    case = approve(uow, cfg, case_id, staff["zhao"])
    assert case["status"] == "approved" and case["reference_no"].startswith("RD-")
    assert [d["reviewer"] for d in case["decisions"]] == ["wang", "qian", "zhao"]
    assert case["decisions"][0]["checklist"] == OK
    events = outbox(uow)
    assert [e["type"] for e in events] == ["review.case.opened"] + ["review.stage.approved"] * 3 \
        + ["review.case.approved"]
    assert [e["payload"]["next_stage"] for e in events[1:4]] == [
        "leader_in_charge", "principal", None]
    assert all(e["correlation_id"] == INCIDENT for e in events)
    final = events[-1]
    assert final["causation_id"] == events[-2]["id"]
    assert final["payload"]["content_hash"] == "a" * 64
    assert final["payload"]["reference_no"] == case["reference_no"]


def test_reference_numbers_are_sequential(uow: Any, cfg: config.ReviewConfig,
                                          staff: dict[str, domain.Reviewer]) -> None:
    refs = []
    for n in range(3):
        case_id = opened(uow, cfg, item_id=f"itm-{n}")
        for who in ("wang", "qian", "zhao"):
            case = approve(uow, cfg, case_id, staff[who])
        refs.append(case["reference_no"])
    seqs = [int(r.rsplit("-", 1)[1]) for r in refs]
    assert seqs == [1, 2, 3] and len({r.rsplit("-", 1)[0] for r in refs}) == 1


def test_errors_map_to_the_right_refusals(uow: Any, cfg: config.ReviewConfig,
                                          staff: dict[str, domain.Reviewer]) -> None:
    case_id = opened(uow, cfg)
    with pytest.raises(handlers.CaseNotFound):
        approve(uow, cfg, "case-missing", staff["wang"])
    with pytest.raises(domain.NotPermitted):
        approve(uow, cfg, case_id, staff["qian"])
    with pytest.raises(domain.NotPermitted, match="author"):
        approve(uow, cfg, case_id, staff["liaison-desk"])
    with pytest.raises(domain.InvalidDecision):
        handlers.decide(uow(), case_id, staff["wang"], {"decision": "return"}, cfg)
    with pytest.raises(domain.InvalidDecision):
        handlers.decide(uow(), case_id, staff["wang"],
                        {"decision": "approve", "checklist": {"accuracy": True}}, cfg)
    assert handlers.get_case(uow(), case_id)["decisions"] == []
    assert len(outbox(uow)) == 1


def test_promoted_reviewer_cannot_approve_a_second_stage(
        uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer]) -> None:
    case_id = opened(uow, cfg)
    approve(uow, cfg, case_id, staff["wang"])
    promoted = domain.Reviewer("wang", "leader_in_charge")  # while the case is open
    with pytest.raises(domain.NotPermitted, match="two stages"):
        approve(uow, cfg, case_id, promoted)


@pytest.mark.parametrize(("decision", "status"), [("return", "returned"), ("reject", "rejected")])
def test_return_and_reject(uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer],
                           decision: str, status: str) -> None:
    case_id = opened(uow, cfg)
    approve(uow, cfg, case_id, staff["wang"])
    case = handlers.decide(uow(), case_id, staff["qian"],
                           {"decision": decision, "comment": "口径需再核实"}, cfg)
    assert case["status"] == status and case["stage"] == "leader_in_charge"
    last = outbox(uow)[-1]
    assert last["type"] == f"review.case.{status}"
    assert last["payload"] == {"case_id": case_id, "item_id": "itm-1", "revision": 1,
                               "ticket_id": "tkt-1", "stage": "leader_in_charge",
                               "comment": "口径需再核实",
                               "author": "liaison-desk"}
    with pytest.raises(domain.CaseClosed):
        handlers.decide(uow(), case_id, staff["qian"],
                        {"decision": "approve", "checklist": OK}, cfg)


def test_filters(uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer]) -> None:
    first = opened(uow, cfg, item_id="itm-a")
    opened(uow, cfg, item_id="itm-b")
    approve(uow, cfg, first, staff["wang"])
    assert [c["id"] for c in handlers.list_cases(uow(), {"stage": "leader_in_charge"})] == [first]
    assert len(handlers.list_cases(uow(), {"status": "open"})) == 2
    assert len(handlers.list_cases(uow(), {"correlation_id": INCIDENT})) == 2
    assert handlers.list_cases(uow(), {"correlation_id": "other"}) == []


def test_a_case_list_is_ordered_by_its_deadline_paged_and_counted(
        uow: Any, cfg: config.ReviewConfig, staff: dict[str, domain.Reviewer]) -> None:
    ids = [opened(uow, cfg, item_id=f"itm-{n}") for n in range(4)]
    approve(uow, cfg, ids[0], staff["wang"])  # at the next stage now, with a later deadline
    open_ = handlers.list_cases(uow(), {"status": "open", "order": "due"})
    dues = [c["stage_due_at"] for c in open_]
    assert dues == sorted(dues) and open_[-1]["id"] == ids[0]
    page, total = handlers.page_of_cases(uow(), {"status": "open", "order": "due",
                                                 "limit": 2, "offset": 2})
    assert [c["id"] for c in page] == [c["id"] for c in open_[2:]] and total == 4
    assert handlers.page_of_cases(uow(), {"status": "approved,rejected"}) == ([], 0)
    newest = handlers.list_cases(uow(), {"order": "created", "limit": 1})
    assert newest[0]["id"] == ids[-1]
    from services.review.schemas import CaseFilterSchema
    with pytest.raises(ValidationError):
        CaseFilterSchema().load({"status": "open,nonsense"})


def test_workflow_defaults_when_the_producer_omits_it(uow: Any, cfg: config.ReviewConfig) -> None:
    event = submitted()
    bare = new_event("news.item.submitted", {k: v for k, v in event.payload.items()
                                             if k not in ("workflow", "ticket_id")},
                     correlation_id=INCIDENT)
    case = handlers.get_case(uow(), handlers.open_case(uow(), bare, cfg))
    assert case["workflow"] == "default" and case["stage_due_at"] is None


def test_every_event_of_a_case_carries_the_item_and_ticket_ids(
        uow: Any, cfg: config.ReviewConfig, staff: dict[str, str]) -> None:
    """v2 payloads name their keys (liaison finds the ticket by `ticket_id`, not by the
    correlation id); an item not drafted for a ticket says so with a null."""
    case_id = opened(uow, cfg)
    for who in ("wang", "qian", "zhao"):
        approve(uow, cfg, case_id, staff[who])
    handlers.open_case(uow(), new_event("news.item.submitted", {
        "item_id": "itm-2", "revision": 1, "kind": "article", "title": "t", "body": "b",
        "author": "sun", "content_hash": "b" * 64, "ticket_id": None},
        correlation_id="itm-2"), cfg)
    events = outbox(uow)
    assert len(events) == 6
    assert all(e["version"] == 2 for e in events)
    assert [(e["payload"]["item_id"], e["payload"]["ticket_id"]) for e in events] == \
        [("itm-1", "tkt-1")] * 5 + [("itm-2", None)]
