"""Review rules, pure: workflows, stage decisions, separation of duties, reference numbers.

A case walks the stages of its workflow (section_head → leader_in_charge → principal). At each
stage exactly one decision closes the stage: approve (next stage, or the case is approved after
the last), return (back to the author) or reject (final).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from civicpulse.contracts.review import STAGES  # the stage names' one home (liaison uses it too)

DECISIONS = ("approve", "return", "reject")
CHECKLIST = ("accuracy", "orientation", "format")
CASE_STATUSES = ("open", "approved", "returned", "rejected")
CLOSING_STATUS = {"return": "returned", "reject": "rejected"}
RESUME_AT = ("same", "first")
SEVERITIES = ("blocking", "warning")


class ReviewError(Exception):
    """A decision the rules refuse."""


class NotPermitted(ReviewError):
    """The reviewer may not decide this case at this stage (403)."""


class InvalidDecision(ReviewError):
    """The decision itself is incomplete (400): missing comment, unchecked checklist."""


class CaseClosed(ReviewError):
    """The case is no longer open, or its stage was already decided (409)."""


class BlockedByFindings(ReviewError):
    """Blocking pre-check findings forbid approval until a new revision resolves them (422)."""

    def __init__(self, message: str, findings: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.findings = findings


@dataclass(frozen=True)
class Workflow:
    name: str
    stages: tuple[str, ...] = STAGES
    deadline_minutes: Mapping[str, int] = field(default_factory=dict)
    deadline_seconds: Mapping[str, int] = field(default_factory=dict)
    resume_at: str = "same"

    def __post_init__(self) -> None:
        if self.resume_at not in RESUME_AT:
            raise ValueError(f"workflow {self.name}: resume_at must be one of {RESUME_AT}")
        if not self.stages or len(set(self.stages)) != len(self.stages):
            raise ValueError(f"workflow {self.name}: stages must be distinct and non-empty")
        unknown = set(self.stages) - set(STAGES)
        if unknown:
            raise ValueError(f"workflow {self.name}: unknown stages {sorted(unknown)}")
        if list(self.stages) != sorted(self.stages, key=STAGES.index):
            raise ValueError(f"workflow {self.name}: stages must follow {STAGES}")
        if (set(self.deadline_minutes) | set(self.deadline_seconds)) - set(self.stages):
            raise ValueError(f"workflow {self.name}: deadlines for stages it does not have")
        if set(self.deadline_minutes) & set(self.deadline_seconds):
            raise ValueError(f"workflow {self.name}: a stage's deadline in minutes or seconds")

    @property
    def first_stage(self) -> str:
        return self.stages[0]

    def next_stage(self, stage: str) -> str | None:
        i = self.stages.index(stage)
        return self.stages[i + 1] if i + 1 < len(self.stages) else None

    def deadline(self, stage: str) -> timedelta | None:
        if stage in self.deadline_seconds:
            return timedelta(seconds=self.deadline_seconds[stage])
        minutes = self.deadline_minutes.get(stage)
        return timedelta(minutes=minutes) if minutes else None

    def due_at(self, stage: str, entered_at: datetime) -> datetime | None:
        limit = self.deadline(stage)
        return entered_at + limit if limit else None

    def resume_stage(self, returned_at: str | None) -> str:
        """Where a resubmission after a return starts: the returning stage or the first."""
        if self.resume_at == "same" and returned_at in self.stages:
            return returned_at
        return self.first_stage

    def stages_before(self, stage: str) -> tuple[str, ...]:
        return self.stages[:self.stages.index(stage)]


@dataclass(frozen=True)
class Case:
    """A review case as the rules see it: one submitted revision walking its workflow's stages
    (one row of `cases`; datetimes are aware; `authors` is the JSON list as stored)."""

    id: str
    item_id: str
    revision: int
    kind: str | None
    title: str
    body: str
    content_hash: str
    author: str
    authors: str | None
    workflow: str
    stage: str
    status: str
    stage_due_at: datetime | None
    correlation_id: str
    ticket_id: str | None
    created_at: datetime
    updated_at: datetime
    reference_no: str | None = None
    stage_entered_at: datetime | None = None
    overdue_at: datetime | None = None
    entry_stage: str | None = None
    resumed_from: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


CASE_FIELDS = tuple(f.name for f in fields(Case))


@dataclass(frozen=True)
class Reviewer:
    name: str
    role: str


@dataclass(frozen=True)
class CaseState:
    status: str
    stage: str
    author: str
    # everyone who wrote any revision of the item (the author included)
    authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PastDecision:
    stage: str
    reviewer: str
    decision: str


@dataclass(frozen=True)
class Outcome:
    """What a valid decision does to the case."""

    decision: str
    stage: str
    next_stage: str | None
    status: str

    @property
    def case_approved(self) -> bool:
        return self.status == "approved"


def same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def check_permission(case: CaseState, reviewer: Reviewer, decision: str,
                     history: Iterable[PastDecision]) -> None:
    """Separation of duties; raises CaseClosed or NotPermitted."""
    if case.status != "open":
        raise CaseClosed(f"the case is {case.status}")
    if reviewer.role != case.stage:
        raise NotPermitted(f"stage {case.stage} needs the role {case.stage}, "
                           f"not {reviewer.role}")
    if same_person(reviewer.name, case.author):
        raise NotPermitted("the author of an item never reviews it")
    if any(same_person(reviewer.name, a) for a in case.authors):
        raise NotPermitted("whoever wrote a revision of an item never reviews it")
    if decision == "approve" and any(
            d.decision == "approve" and same_person(d.reviewer, reviewer.name) for d in history):
        raise NotPermitted("one person never approves two stages of one case")


def check_content(decision: str, comment: str | None, checklist: Mapping[str, bool] | None
                  ) -> None:
    """Return and reject give a reason; approve confirms the whole checklist."""
    if decision not in DECISIONS:
        raise InvalidDecision(f"decision must be one of {DECISIONS}")
    if decision in CLOSING_STATUS and not (comment or "").strip():
        raise InvalidDecision(f"a {decision} needs a comment")
    if decision == "approve":
        missing = [k for k in CHECKLIST if (checklist or {}).get(k) is not True]
        if missing:
            raise InvalidDecision(f"approval needs every checklist item true: {missing}")


def check_findings(decision: str, blocking: list[dict[str, str]]) -> None:
    """A revision with blocking pre-check findings can be returned or rejected, not approved."""
    if decision == "approve" and blocking:
        raise BlockedByFindings(
            f"{len(blocking)} blocking pre-check finding(s): submit a new revision that "
            "resolves them, or return the item", blocking)


def decide(case: CaseState, workflow: Workflow, reviewer: Reviewer, decision: str,
           comment: str | None, checklist: Mapping[str, bool] | None,
           history: Iterable[PastDecision],
           blocking_findings: list[dict[str, str]] | None = None) -> Outcome:
    """Validate one stage decision and say what it does."""
    history = list(history)
    check_permission(case, reviewer, decision, history)
    check_content(decision, comment, checklist)
    check_findings(decision, blocking_findings or [])
    if decision != "approve":
        return Outcome(decision, case.stage, None, CLOSING_STATUS[decision])
    nxt = workflow.next_stage(case.stage)
    return Outcome(decision, case.stage, nxt, "open" if nxt else "approved")


def is_blocking(severity: str) -> bool:
    """A finding of this severity forbids approval until a new revision resolves it."""
    return severity == "blocking"


def returned_at(decisions: Iterable[tuple[str, str]], default: str) -> str:
    """The stage of the last `return` among `(stage, decision)` pairs, else `default` (the
    stage a resubmission resumes at, per the workflow's `resume_at`)."""
    returns = [stage for stage, decision in decisions if decision == "return"]
    return returns[-1] if returns else default


def carried_approvals(workflow: Workflow, resume_at: str,
                      previous: Iterable[PastDecision]) -> list[PastDecision]:
    """The previous case's approvals of the stages before `resume_at`, carried over."""
    earlier = set(workflow.stages_before(resume_at))
    return [d for d in previous if d.decision == "approve" and d.stage in earlier]


def escalation_roles(stage: str) -> tuple[str, ...]:
    """Who hears of an overdue stage: the stage's role holders and the principal leaders."""
    return (stage,) if stage == "principal" else (stage, "principal")


def reference_number(prefix: str, year: int, sequence: int) -> str:
    """The approval's reference number, e.g. RD-2026-000123."""
    if sequence < 1:
        raise ValueError("reference sequences start at 1")
    return f"{prefix}-{year:04d}-{sequence:06d}"


RECORDS_ROLES = frozenset({"admin"})


def may_read_configuration(role: str | None) -> bool:
    """The configured workflows (GET /workflows), shown on the console's 管理 page: admins."""
    return role in RECORDS_ROLES


def may_read_records(role: str | None) -> bool:
    """The raw records of a period (GET /records, for the assessment report): admins only."""
    return role in RECORDS_ROLES
