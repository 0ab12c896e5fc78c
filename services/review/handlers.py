"""Review use cases: open cases for submitted revisions, record stage decisions, staff."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, new_id, utcnow
from civicpulse.errors import PermanentError
from services.review import db, domain, metrics
from services.review.config import ReviewConfig

log = logging.getLogger(__name__)


class CaseNotFound(LookupError):
    """No review case has that id."""


class UnknownReviewer(Exception):
    """The bearer token belongs to no staff account."""


class StaffExists(Exception):
    """A staff account of that name exists already."""


class UnknownWorkflow(PermanentError):
    """A submission asks for a workflow this office does not run."""

    reason = "unknown-workflow"


def _iso(value: datetime) -> str:
    """RFC 3339; SQLite hands back naive datetimes, which were stored as UTC."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


# --- cases -------------------------------------------------------------------------------------

def open_case(uow: UnitOfWork, event: Envelope, cfg: ReviewConfig) -> str | None:
    """news.item.submitted: one case per (item, revision), at the workflow's first stage."""
    p = event.payload
    name = p.get("workflow") or "default"  # contracts validate; they do not fill defaults
    workflow = cfg.workflows.get(name)
    if workflow is None:
        raise UnknownWorkflow(f"no review workflow {name!r}")
    with uow:
        if not uow.first_time(event, "review.open_case"):
            return None
        case_id = _insert_case(uow, event, workflow)
        if case_id is not None:
            uow.publish(new_event("review.case.opened", {
                "case_id": case_id, "item_id": p["item_id"], "revision": p["revision"],
                "workflow": workflow.name, "stage": workflow.first_stage,
            }, correlation_id=event.correlation_id, caused_by=event, tlp="AMBER"))
        uow.commit()
    return case_id


def _insert_case(uow: UnitOfWork, event: Envelope, workflow: domain.Workflow) -> str | None:
    p = event.payload
    now = utcnow()
    case_id = f"case-{new_id()[:12]}"
    try:
        with uow.session.begin_nested():
            uow.session.execute(insert(db.cases).values(
                id=case_id, item_id=p["item_id"], revision=p["revision"], kind=p["kind"],
                title=p["title"], body=p["body"], content_hash=p["content_hash"],
                author=p["author"], workflow=workflow.name, stage=workflow.first_stage,
                status="open", stage_due_at=workflow.due_at(workflow.first_stage, now),
                correlation_id=event.correlation_id, ticket_id=p.get("ticket_id"),
                created_at=now, updated_at=now))
    except IntegrityError:
        log.warning("a case for %s r%s exists already", p["item_id"], p["revision"],
                    extra={"correlation_id": event.correlation_id, "event_id": event.id})
        return None
    return case_id


def _load(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    case = db.get_case(uow.session, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


def _reviewer(uow: UnitOfWork, token: str) -> domain.Reviewer:
    row = db.staff_by_token_hash(uow.session, domain.token_hash(token))
    if row is None:
        raise UnknownReviewer("unknown token")
    return domain.Reviewer(row["name"], row["role"])


def decide(uow: UnitOfWork, case_id: str, token: str, body: dict[str, Any],
           cfg: ReviewConfig) -> dict[str, Any]:
    """Record one stage decision (HTTP): validate, append to the audit log, move the case."""
    with uow:
        reviewer = _reviewer(uow, token)
        case = _load(uow, case_id)
        history = [domain.PastDecision(d["stage"], d["reviewer"], d["decision"])
                   for d in db.case_decisions(uow.session, case_id)]
        outcome = domain.decide(
            domain.CaseState(case["status"], case["stage"], case["author"]),
            cfg.workflows[case["workflow"]], reviewer, body["decision"], body.get("comment"),
            body.get("checklist"), history)
        now = utcnow()
        _append_decision(uow, case, reviewer, body, now)
        reference_no = _advance(uow, case, outcome, cfg, now)
        _record_outcome(uow, case, outcome, reviewer, body.get("comment") or "", reference_no)
        uow.commit()
    metrics.decisions.labels(outcome.stage, outcome.decision).inc()
    log.info("case %s: %s at %s by %s", case_id, outcome.decision, outcome.stage, reviewer.name,
             extra={"correlation_id": case["correlation_id"]})
    return get_case(uow, case_id)


def _append_decision(uow: UnitOfWork, case: dict[str, Any], reviewer: domain.Reviewer,
                     body: dict[str, Any], now: datetime) -> None:
    checklist = body.get("checklist")
    uow.session.execute(insert(db.decisions).values(
        case_id=case["id"], stage=case["stage"], reviewer=reviewer.name,
        decision=body["decision"], comment=body.get("comment") or None,
        checklist=json.dumps(checklist, sort_keys=True) if checklist is not None else None,
        at=now))


def _advance(uow: UnitOfWork, case: dict[str, Any], outcome: domain.Outcome,
             cfg: ReviewConfig, now: datetime) -> str | None:
    """Move the case on; a concurrent decision on the same stage loses with CaseClosed."""
    workflow = cfg.workflows[case["workflow"]]
    values: dict[str, Any] = {"status": outcome.status, "updated_at": now}
    if outcome.next_stage:
        values.update(stage=outcome.next_stage,
                      stage_due_at=workflow.due_at(outcome.next_stage, now))
    else:
        values["stage_due_at"] = None
    reference_no = _next_reference(uow, cfg, now) if outcome.case_approved else None
    if reference_no:
        values["reference_no"] = reference_no
    result = uow.session.execute(update(db.cases).where(
        db.cases.c.id == case["id"], db.cases.c.status == "open",
        db.cases.c.stage == case["stage"]).values(**values))
    if result.rowcount != 1:
        raise domain.CaseClosed("the stage was decided by someone else meanwhile")
    return reference_no


def _next_reference(uow: UnitOfWork, cfg: ReviewConfig, now: datetime) -> str:
    """Sequential per office-local year; the counter row serialises concurrent approvals."""
    year = now.astimezone(cfg.timezone).year
    counters = db.reference_counters
    if uow.session.execute(select(counters.c.last).where(counters.c.year == year)).first() \
            is None:
        try:
            with uow.session.begin_nested():
                uow.session.execute(insert(counters).values(year=year, last=0))
        except IntegrityError:
            pass
    uow.session.execute(update(counters).where(counters.c.year == year)
                        .values(last=counters.c.last + 1))
    seq = uow.session.execute(select(counters.c.last).where(counters.c.year == year)
                              ).scalar_one()
    return domain.reference_number(cfg.reference_prefix, year, seq)


def _record_outcome(uow: UnitOfWork, case: dict[str, Any], outcome: domain.Outcome,
                    reviewer: domain.Reviewer, comment: str, reference_no: str | None) -> None:
    base = {"case_id": case["id"], "item_id": case["item_id"], "revision": case["revision"]}
    corr = case["correlation_id"]
    if outcome.decision != "approve":
        uow.publish(new_event(f"review.case.{outcome.status}", {
            **base, "stage": outcome.stage, "comment": comment}, correlation_id=corr,
            tlp="AMBER"))
        return
    stage_event = new_event("review.stage.approved", {
        **base, "stage": outcome.stage, "reviewer": reviewer.name,
        "next_stage": outcome.next_stage}, correlation_id=corr, tlp="AMBER")
    uow.publish(stage_event)
    if outcome.case_approved:
        uow.publish(new_event("review.case.approved", {
            **base, "reference_no": reference_no, "content_hash": case["content_hash"],
        }, correlation_id=corr, caused_by=stage_event, tlp="AMBER"))


def list_cases(uow: UnitOfWork, filters: dict[str, str | None]) -> list[dict[str, Any]]:
    with uow:
        return [_jsonable(c) for c in db.find_cases(uow.session, filters)]


def get_case(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    """The case with its decisions (the audit log, oldest first)."""
    with uow:
        case = _jsonable(_load(uow, case_id))
        case["decisions"] = [_decision_view(d) for d in db.case_decisions(uow.session, case_id)]
        return case


def _decision_view(row: dict[str, Any]) -> dict[str, Any]:
    view = _jsonable(row)
    view["checklist"] = json.loads(row["checklist"]) if row["checklist"] else None
    return view


def refresh_open_gauge(uow: UnitOfWork) -> None:
    with uow:
        metrics.cases_open.set(db.count_open(uow.session))


# --- staff -------------------------------------------------------------------------------------

def add_staff(uow: UnitOfWork, name: str, role: str) -> str:
    """Create an account; return its bearer token (only its hash is stored)."""
    if role not in domain.ROLES:
        raise ValueError(f"role must be one of {domain.ROLES}")
    token = secrets.token_urlsafe(24)
    with uow:
        try:
            uow.session.execute(insert(db.staff).values(
                name=name, role=role, token_hash=domain.token_hash(token),
                created_at=utcnow()))
            uow.commit()
        except IntegrityError as exc:
            raise StaffExists(name) from exc
    return token


def authenticate(uow: UnitOfWork, token: str) -> dict[str, str] | None:
    """The staff account a bearer token belongs to, as {"name", "role"}; None if unknown."""
    if not token:
        return None
    with uow:
        row = db.staff_by_token_hash(uow.session, domain.token_hash(token))
    return {"name": row["name"], "role": row["role"]} if row else None


def list_staff(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [_jsonable(s) for s in db.list_staff(uow.session)]
