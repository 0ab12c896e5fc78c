"""Review use cases: open cases for submitted revisions, record stage decisions, deadlines.

Who a reviewer is comes from the identity service (the HTTP entrypoint's caller); who is
escalated to comes from identity's staff directory, handed in as a function."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, new_id, utcnow
from civicpulse.errors import PermanentError
from civicpulse.serialize import aware, iso, jsonable
from services.review import audit, db, domain, metrics
from services.review.config import ReviewConfig
from services.review.prechecks import Finding

log = logging.getLogger(__name__)


class CaseNotFound(LookupError):
    """No review case has that id."""


class UnknownWorkflow(PermanentError):
    """A submission asks for a workflow this office does not run."""

    reason = "unknown-workflow"


# --- cases -------------------------------------------------------------------------------------

def open_case(uow: UnitOfWork, event: Envelope, cfg: ReviewConfig,
              now: datetime | None = None) -> str | None:
    """news.item.submitted: one case per (item, revision), after the automatic pre-checks.

    A resubmission after a return resumes at the workflow's `resume_at` stage, carrying the
    previous case's approvals of the stages before it.
    """
    p = event.payload
    name = p.get("workflow") or "default"  # contracts validate; they do not fill defaults
    workflow = cfg.workflows.get(name)
    if workflow is None:
        raise UnknownWorkflow(f"no review workflow {name!r}")
    now = now or utcnow()
    found = cfg.prechecker.run(p, now.astimezone(cfg.timezone).year) if cfg.prechecker else []
    with uow:
        if not uow.first_time(event, "review.open_case"):
            return None
        previous = db.latest_returned_case(uow.session, p["item_id"], p["revision"])
        stage = workflow.resume_stage(_returned_at(uow, previous) if previous else None)
        case = _insert_case(uow, event, workflow, stage, previous, now)
        if case is not None:
            _record_findings(uow, case, found, now)
            carried = _carry_approvals(uow, case, workflow, previous, now) if previous else []
            blocking = sum(f.blocking for f in found)
            uow.publish(new_event("review.case.opened", {
                "case_id": case.id, "item_id": p["item_id"], "revision": p["revision"],
                "ticket_id": case.ticket_id, "workflow": workflow.name, "stage": stage,
                "blocking_findings": blocking, "warnings": len(found) - blocking,
                "resumed_from": previous.id if previous else None,
                "carried_approvals": carried,
            }, correlation_id=event.correlation_id, caused_by=event, tlp="AMBER"))
        uow.commit()
    if case is not None:
        for f in found:
            metrics.findings.labels(f.rule, f.severity).inc()
    return case.id if case else None


def _returned_at(uow: UnitOfWork, previous: domain.Case) -> str | None:
    return domain.returned_at([(d["stage"], d["decision"]) for d in
                               db.case_decisions(uow.session, previous.id)],
                              previous.stage)


def revision_authors(payload: dict[str, Any]) -> list[str]:
    """Everyone who wrote a revision of the submitted item (v1 events name the author only)."""
    names = {payload["author"], *(r["author"] for r in payload.get("revision_authors") or ()
                                  if r.get("author"))}
    return sorted(names)


def _insert_case(uow: UnitOfWork, event: Envelope, workflow: domain.Workflow, stage: str,
                 previous: domain.Case | None, now: datetime) -> domain.Case | None:
    p = event.payload
    case = domain.Case(
        id=f"case-{new_id()[:12]}", item_id=p["item_id"], revision=p["revision"],
        kind=p["kind"], title=p["title"], body=p["body"], content_hash=p["content_hash"],
        author=p["author"], authors=json.dumps(revision_authors(p), ensure_ascii=False),
        workflow=workflow.name, stage=stage, entry_stage=stage,
        status="open", stage_due_at=workflow.due_at(stage, now), stage_entered_at=now,
        resumed_from=previous.id if previous else None,
        correlation_id=event.correlation_id, ticket_id=p.get("ticket_id"),
        created_at=now, updated_at=now)
    if not db.add_case(uow.session, case.as_dict()):
        log.warning("a case for %s r%s exists already", p["item_id"], p["revision"],
                    extra={"correlation_id": event.correlation_id, "event_id": event.id})
        return None
    audit.append(uow.session, case, actor=p["author"], action="submitted", at=now,
                 stage=stage, detail={"workflow": workflow.name,
                                      "resumed_from": case.resumed_from,
                                      "revision_authors": p.get("revision_authors")})
    return case


def _record_findings(uow: UnitOfWork, case: domain.Case, found: list[Finding],
                     now: datetime) -> None:
    if not found:
        return
    db.add_findings(uow.session, case.id, [f.as_dict() for f in found])
    audit.append(uow.session, case, actor="precheck", action="prechecked", at=now,
                 detail={"blocking": sum(f.blocking for f in found),
                         "warning": sum(not f.blocking for f in found),
                         "rules": sorted({f.rule for f in found})})


def _carry_approvals(uow: UnitOfWork, case: domain.Case, workflow: domain.Workflow,
                     previous: domain.Case, now: datetime) -> list[str]:
    """Copy the previous case's approvals of the stages before the resume stage."""
    past = db.case_decisions(uow.session, previous.id)
    keep = domain.carried_approvals(workflow, case.stage, [
        domain.PastDecision(d["stage"], d["reviewer"], d["decision"]) for d in past])
    for d in keep:
        row = next(r for r in past if (r["stage"], r["reviewer"], r["decision"]) ==
                   (d.stage, d.reviewer, d.decision))
        db.add_decision(uow.session, case_id=case.id, stage=d.stage, reviewer=d.reviewer,
                        decision="approve", comment=row["comment"],
                        checklist=row["checklist"], at=now, carried_from=previous.id)
        audit.append(uow.session, case, actor=d.reviewer, action="approval_carried", at=now,
                     stage=d.stage, detail={"from_case": previous.id,
                                            "from_revision": previous.revision,
                                            "from_content_hash": previous.content_hash})
    return [d.stage for d in keep]


def _load(uow: UnitOfWork, case_id: str) -> domain.Case:
    case = db.get_case(uow.session, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


def decide(uow: UnitOfWork, case_id: str, reviewer: domain.Reviewer, body: dict[str, Any],
           cfg: ReviewConfig) -> dict[str, Any]:
    """Record one stage decision by `reviewer` (the signed-in caller, as identity knows them):
    validate, append to the audit log, move the case."""
    with uow:
        case = _load(uow, case_id)
        history = [domain.PastDecision(d["stage"], d["reviewer"], d["decision"])
                   for d in db.case_decisions(uow.session, case_id)]
        blocking = [f for f in db.case_findings(uow.session, case_id)
                    if domain.is_blocking(f["severity"])]
        outcome = domain.decide(
            domain.CaseState(case.status, case.stage, case.author,
                             tuple(json.loads(case.authors or "[]"))),
            cfg.workflows[case.workflow], reviewer, body["decision"], body.get("comment"),
            body.get("checklist"), history, blocking)
        now = utcnow()
        _append_decision(uow, case, reviewer, body, now)
        reference_no = _advance(uow, case, outcome, cfg, now)
        _record_outcome(uow, case, outcome, reviewer, body.get("comment") or "", reference_no)
        uow.commit()
    _count(case, outcome, now)
    log.info("case %s: %s at %s by %s", case_id, outcome.decision, outcome.stage, reviewer.name,
             extra={"correlation_id": case.correlation_id})
    return get_case(uow, case_id)


def _count(case: domain.Case, outcome: domain.Outcome, now: datetime) -> None:
    metrics.decisions.labels(outcome.stage, outcome.decision).inc()
    if outcome.decision == "return":
        metrics.returns.labels(outcome.stage).inc()
    elif outcome.decision == "reject":
        metrics.rejections.labels(outcome.stage).inc()
    entered = case.stage_entered_at or case.created_at
    metrics.time_in_stage.labels(outcome.stage).observe(max(0.0, (now - entered).total_seconds()))


def _append_decision(uow: UnitOfWork, case: domain.Case, reviewer: domain.Reviewer,
                     body: dict[str, Any], now: datetime) -> None:
    checklist = body.get("checklist")
    db.add_decision(uow.session, case_id=case.id, stage=case.stage,
                    reviewer=reviewer.name, decision=body["decision"],
                    comment=body.get("comment") or None,
                    checklist=json.dumps(checklist, sort_keys=True)
                    if checklist is not None else None, at=now)
    audit.append(uow.session, case, actor=reviewer.name, action=body["decision"], at=now,
                 stage=case.stage, comment=body.get("comment") or None,
                 detail={"checklist": checklist} if checklist is not None else None)


def _advance(uow: UnitOfWork, case: domain.Case, outcome: domain.Outcome,
             cfg: ReviewConfig, now: datetime) -> str | None:
    """Move the case on; a concurrent decision on the same stage loses with CaseClosed."""
    workflow = cfg.workflows[case.workflow]
    values: dict[str, Any] = {"status": outcome.status, "updated_at": now}
    if outcome.next_stage:
        values.update(stage=outcome.next_stage, stage_entered_at=now, overdue_at=None,
                      stage_due_at=workflow.due_at(outcome.next_stage, now))
    else:
        values["stage_due_at"] = None
    reference_no = _next_reference(uow, cfg, now) if outcome.case_approved else None
    if reference_no:
        values["reference_no"] = reference_no
    if not db.move_case(uow.session, case.id, case.stage, values):
        raise domain.CaseClosed("the stage was decided by someone else meanwhile")
    return reference_no


def _next_reference(uow: UnitOfWork, cfg: ReviewConfig, now: datetime) -> str:
    """Sequential per office-local year; the counter row serialises concurrent approvals."""
    year = now.astimezone(cfg.timezone).year
    seq = db.next_in_year(uow.session, year)
    return domain.reference_number(cfg.reference_prefix, year, seq)


def _record_outcome(uow: UnitOfWork, case: domain.Case, outcome: domain.Outcome,
                    reviewer: domain.Reviewer, comment: str, reference_no: str | None) -> None:
    base = {"case_id": case.id, "item_id": case.item_id, "revision": case.revision,
            "ticket_id": case.ticket_id}
    corr = case.correlation_id
    if outcome.decision != "approve":
        uow.publish(new_event(f"review.case.{outcome.status}", {
            **base, "stage": outcome.stage, "comment": comment, "author": case.author},
            correlation_id=corr,
            tlp="AMBER"))
        return
    stage_event = new_event("review.stage.approved", {
        **base, "stage": outcome.stage, "reviewer": reviewer.name,
        "next_stage": outcome.next_stage}, correlation_id=corr, tlp="AMBER")
    uow.publish(stage_event)
    if outcome.case_approved:
        uow.publish(new_event("review.case.approved", {
            **base, "reference_no": reference_no, "content_hash": case.content_hash,
        }, correlation_id=corr, caused_by=stage_event, tlp="AMBER"))


def list_cases(uow: UnitOfWork, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    return page_of_cases(uow, filters)[0]


def page_of_cases(uow: UnitOfWork, filters: Mapping[str, Any]
                  ) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases `filters` asks for, and how many match in all."""
    with uow:
        found = [jsonable(c.as_dict()) for c in db.find_cases(uow.session, filters)]
        return found, db.count_cases(uow.session, filters)


def get_case(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    """The case with its pre-check findings, decisions, escalations and audit trail."""
    with uow:
        case = jsonable(_load(uow, case_id).as_dict())
        case["decisions"] = [_decision_view(d) for d in db.case_decisions(uow.session, case_id)]
        case["findings"] = db.case_findings(uow.session, case_id)
        case["blocked"] = any(domain.is_blocking(f["severity"]) for f in case["findings"])
        case["escalations"] = [_escalation_view(e)
                               for e in db.case_escalations(uow.session, case_id)]
        case["audit"] = audit.entries(uow.session, case_id=case_id)
        return case


def _decision_view(row: dict[str, Any]) -> dict[str, Any]:
    view = jsonable(row)
    view["checklist"] = json.loads(row["checklist"]) if row["checklist"] else None
    return view


def _escalation_view(row: dict[str, Any]) -> dict[str, Any]:
    view = jsonable(row)
    view["roles"] = json.loads(row["roles"])
    view["notified"] = json.loads(row["notified"])
    return view


def audit_export(uow: UnitOfWork, filters: dict[str, Any]) -> list[dict[str, Any]]:
    with uow:
        return audit.entries(uow.session, **filters)


# --- deadlines ---------------------------------------------------------------------------------

Directory = Callable[[], list[dict[str, Any]]]


def sweep_overdue(uow: UnitOfWork, directory: Directory, now: datetime | None = None
                  ) -> list[str]:
    """Mark every open stage past its deadline overdue, exactly once, and escalate it.

    The claim is one `UPDATE ... WHERE overdue_at IS NULL RETURNING`: of two sweepers (two
    service instances, or a sweep racing a decision) only one gets each row. Escalation =
    a row in `escalations` naming the active holders of the stage's role and the principal
    leaders, an audit entry, and `review.stage.overdue` carrying the same names. `directory`
    is identity's active staff (`staff_directory`), asked before anything is claimed.
    """
    now = now or utcnow()
    staff = directory()
    with uow:
        claimed = db.claim_overdue(uow.session, now)
        for case in claimed:
            _escalate(uow, case, staff, now)
        uow.commit()
    for case in claimed:
        metrics.overdue.labels(case.stage).inc()
        log.warning("case %s: stage %s overdue since %s", case.id, case.stage,
                    iso(case.stage_due_at), extra={"correlation_id": case.correlation_id})
    return [c.id for c in claimed]


def _escalate(uow: UnitOfWork, case: domain.Case, staff: list[dict[str, Any]],
              now: datetime) -> None:
    roles = domain.escalation_roles(case.stage)
    notified = sorted(s["name"] for s in staff if s.get("role") in roles)
    db.add_escalation(uow.session, case_id=case.id, stage=case.stage,
                      due_at=case.stage_due_at, roles=json.dumps(list(roles)),
                      notified=json.dumps(notified, ensure_ascii=False), at=now)
    audit.append(uow.session, case, actor="deadline", action="overdue", at=now,
                 stage=case.stage, detail={"due_at": iso(case.stage_due_at),
                                           "escalated_to": notified, "roles": list(roles)})
    uow.publish(new_event("review.stage.overdue", {
        "case_id": case.id, "item_id": case.item_id, "revision": case.revision,
        "ticket_id": case.ticket_id, "stage": case.stage,
        "due_at": iso(case.stage_due_at), "workflow": case.workflow,
        "escalated_to": notified, "notify_roles": list(roles),
    }, correlation_id=case.correlation_id, tlp="AMBER"))


def refresh_open_gauge(uow: UnitOfWork) -> None:
    """Gauges read at scrape time: open cases, queue depth per stage, overdue open stages."""
    with uow:
        metrics.cases_open.set(db.count_open(uow.session))
        depth = db.open_by_stage(uow.session)
        for stage in domain.STAGES:
            metrics.queue_depth.labels(stage).set(depth.get(stage, 0))
        now = utcnow()
        metrics.overdue_open.set(db.count_overdue_open(uow.session, now))
        oldest = db.oldest_entered_by_stage(uow.session)
        for stage in domain.STAGES:
            entered = oldest.get(stage)
            metrics.oldest_waiting.labels(stage).set(
                max(0.0, (now - aware(entered)).total_seconds()) if entered else 0.0)
