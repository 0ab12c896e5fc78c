"""Liaison rules, pure: the ticket state machine, emergency plans, SLA arithmetic, TLP sharing.

No I/O here: the use cases load and store (through `db`'s repositories), this module decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

LEVEL_ORDER = ("IV", "III", "II", "I")  # weakest first
DEADLINE_KEYS = ("acknowledge", "first_response", "resolve")
TLP_LEVELS = ("CLEAR", "GREEN", "AMBER", "RED")
LEAD = "lead"  # a task assignee meaning "the lead section"

# --- ticket state machine -------------------------------------------------------------------

STATUSES = ("open", "acknowledged", "responding", "monitoring", "resolved", "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "responding"}),
    "acknowledged": frozenset({"responding"}),
    "responding": frozenset({"monitoring"}),
    "monitoring": frozenset({"responding", "resolved"}),
    "resolved": frozenset({"closed"}),
    "closed": frozenset(),
}


class InvalidTransition(Exception):
    """The ticket cannot move from its status to the one asked for."""

    def __init__(self, current: str, target: str) -> None:
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "none"
        super().__init__(f"cannot move a ticket from {current!r} to {target!r} "
                         f"(allowed: {allowed})")
        self.current = current
        self.target = target


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def transition(current: str, target: str) -> str:
    """The new status, or InvalidTransition."""
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
    return target


INITIAL = "open"  # every ticket starts here


def opening_status(statement_required: bool) -> str:
    """A plan that wants a statement opens the ticket straight into responding."""
    return transition(INITIAL, "responding") if statement_required else INITIAL


def after_statement(status: str) -> str | None:
    """The statement is out: a responding ticket is monitored from now on."""
    return "monitoring" if status == "responding" else None


def after_subsiding(status: str) -> str | None:
    """The incident calmed down: a monitored ticket is resolved."""
    return "resolved" if status == "monitoring" else None


def after_acknowledging(status: str) -> str | None:
    """Staff take the ticket on: an open ticket is acknowledged (later ones keep their status)."""
    return "acknowledged" if status == "open" else None


# a ticket in these statuses is out of work: its unmet deadlines no longer count as overdue
SETTLED = frozenset({"resolved", "closed"})


def is_settled(status: str) -> bool:
    return status in SETTLED


def is_resolution(status: str) -> bool:
    """Reaching this status resolves the incident (time to resolve is measured to it)."""
    return status == "resolved"


def names_who(status: str) -> bool:
    """The status's event names the person who moved the ticket (an acknowledgement does)."""
    return status == "acknowledged"


def reviewable(status: str) -> bool:
    """The post-incident review is written for closed tickets."""
    return status == "closed"


# the statuses people or incidents move a ticket to that partners hear of, and their events
STATUS_EVENTS = {"acknowledged": "liaison.ticket.acknowledged",
                 "resolved": "liaison.ticket.resolved", "closed": "liaison.ticket.closed"}
# the fact reaching a status records (the first time only)
STATUS_FACTS = {"acknowledged": "acknowledged_at", "resolved": "resolved_at",
                "closed": "closed_at"}


# --- which tickets a list asks for ------------------------------------------------------------

TICKET_ORDERS = ("opened", "due")  # newest first | the most urgent unmet plan deadline first


@dataclass(frozen=True)
class TicketQuery:
    """The filters, order and page of a ticket list; every filter narrows (AND)."""

    incident_id: str | None = None
    status: str | None = None
    in_work: bool = False  # only tickets not yet settled (resolved or closed)
    level: str | None = None
    agency: str | None = None  # only tickets this partner agency takes part in
    lead_section: str | None = None
    commander: str | None = None
    order: str = "opened"
    limit: int | None = None
    offset: int = 0


# --- the ticket, as use cases see it ---------------------------------------------------------

@dataclass(frozen=True)
class Ticket:
    id: str
    incident_id: str
    topic: str
    level: str
    status: str
    title: str
    lead_section: str
    opened_at: datetime
    updated_at: datetime
    due: dict[str, datetime]  # DEADLINE_KEYS -> when the plan wants it done

    def with_status(self, status: str) -> Ticket:
        return replace(self, status=status)


@dataclass(frozen=True)
class Facts:
    """When each plan deadline was met, who commands, and the review's lessons."""

    commander: str | None = None
    acknowledged_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    lessons: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# who takes which part on a ticket, and where its tasks stand
ROLES = ("commander", "liaison_officer", "scribe", "partner_observer", "lead", "observer")
ASSIGNABLE_ROLES = ("commander", "liaison_officer", "scribe", "partner_observer")
TASK_STATUSES = ("todo", "doing", "done", "cancelled")


# --- levels ---------------------------------------------------------------------------------

def is_stronger(level: str, than: str) -> bool:
    return LEVEL_ORDER.index(level) > LEVEL_ORDER.index(than)


# --- emergency plan -------------------------------------------------------------------------

AGENCY_KINDS = ("propaganda", "cyberspace", "media", "section")
GROUP_PREFIX = "group:"


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    kind: str  # one of AGENCY_KINDS
    contact: str = ""  # the duty desk, in a line (the first contact's desk)
    contacts: tuple[dict[str, str], ...] = ()
    active: bool = True


# --- sharing groups -------------------------------------------------------------------------

class UnknownGroup(ValueError):
    """A `group:NAME` (or a bare name) that is neither a sharing group nor an agency."""


def group_problems(groups: dict[str, Sequence[str]], directory: Iterable[str]) -> list[str]:
    """What is wrong with sharing groups against an agency directory (empty list: sound)."""
    known = set(directory)
    problems = [f"group {name!r} has the name of an agency" for name in groups if name in known]
    for name, members in groups.items():
        if not members:
            problems.append(f"group {name!r} has no members")
        problems += [f"group {name!r}: unknown agency {m!r}" for m in members if m not in known]
    return problems


def expand_agencies(items: Iterable[str], groups: dict[str, Sequence[str]]
                    ) -> tuple[str, ...]:
    """Agency codes and `group:NAME`s → agency codes, first occurrence kept, in order.

    Plain codes pass through unchanged (checked against the directory elsewhere); a group
    that does not exist raises UnknownGroup.
    """
    out: list[str] = []
    for item in items:
        if item.startswith(GROUP_PREFIX):
            name = item.removeprefix(GROUP_PREFIX)
            if name not in groups:
                raise UnknownGroup(name)
            out.extend(groups[name])
        else:
            out.append(item)
    return tuple(dict.fromkeys(out))


def resolve_party(name: str, groups: dict[str, Sequence[str]], directory: Iterable[str]
                  ) -> tuple[str, ...]:
    """What staff mean by one name: an agency code, a group (bare or `group:NAME`)."""
    if name in set(directory):
        return (name,)
    bare = name.removeprefix(GROUP_PREFIX)
    if bare in groups:
        return tuple(dict.fromkeys(groups[bare]))
    raise UnknownGroup(name)


@dataclass(frozen=True)
class TaskTemplate:
    code: str
    title: str
    due: str  # one of DEADLINE_KEYS
    assignee: str = LEAD  # LEAD or an agency code


@dataclass(frozen=True)
class Deadlines:
    """Minutes from the ticket's opening (fractions allowed: drills and tests)."""

    acknowledge: float
    first_response: float
    resolve: float

    def minutes(self, key: str) -> float:
        if key not in DEADLINE_KEYS:
            raise KeyError(key)
        return float(getattr(self, key))

    def due_times(self, opened_at: datetime) -> dict[str, datetime]:
        return {k: opened_at + timedelta(minutes=self.minutes(k)) for k in DEADLINE_KEYS}


NOTIFY_TARGETS = ("leader_in_charge", "partner_lead")
# who hears of a missed deadline decides how far the notice goes: the leader in charge is the
# office's own business (RED, never leaves it); the partners' leads get it on their queues
NOTIFY_TLP = {"leader_in_charge": "RED", "partner_lead": "AMBER"}


@dataclass(frozen=True)
class EscalationStep:
    """`after` minutes past a missed deadline, notify `notify`."""

    after: float
    notify: str


DEFAULT_CHAIN = (EscalationStep(0, "leader_in_charge"), EscalationStep(30, "partner_lead"))


@dataclass(frozen=True)
class LevelPlan:
    level: str
    lead_section: str
    agencies: tuple[str, ...]
    deadlines: Deadlines
    tasks: tuple[TaskTemplate, ...]
    statement_required: bool
    escalation: tuple[EscalationStep, ...] = DEFAULT_CHAIN
    warn_before: float = 0.0  # minutes before each deadline to warn (liaison.deadline.near)


@dataclass(frozen=True)
class Plan:
    levels: dict[str, LevelPlan]

    def for_level(self, level: str) -> LevelPlan:
        return self.levels[level]


def plan_problems(plan: Plan, directory: Iterable[str]) -> list[str]:
    """What is wrong with a plan against an agency directory (empty list: it is sound)."""
    known = set(directory)
    problems = [f"level {lv} missing" for lv in LEVEL_ORDER if lv not in plan.levels]
    for lp in plan.levels.values():
        problems += [f"{lp.level}: unknown agency {a!r}" for a in lp.agencies if a not in known]
        problems += [f"{lp.level}: task {t.code!r} assigned to {t.assignee!r}, not on the plan"
                     for t in lp.tasks if t.assignee != LEAD and t.assignee not in lp.agencies]
        d = lp.deadlines
        if not 0 < d.acknowledge <= d.first_response <= d.resolve:
            problems.append(f"{lp.level}: deadlines must satisfy 0 < acknowledge <= "
                            "first_response <= resolve")
    for lp in plan.levels.values():
        problems += [f"{lp.level}: escalation notifies unknown {e.notify!r}"
                     for e in lp.escalation if e.notify not in NOTIFY_TARGETS]
        afters = [e.after for e in lp.escalation]
        if afters != sorted(afters) or any(a < 0 for a in afters):
            problems.append(f"{lp.level}: escalation steps must wait 0 or more minutes, "
                            "in increasing order")
    present = [lv for lv in LEVEL_ORDER if lv in plan.levels]
    for weaker, stronger in zip(present, present[1:], strict=False):
        w, s = plan.levels[weaker], plan.levels[stronger]
        if not set(w.agencies) <= set(s.agencies):
            problems.append(f"{stronger}: must involve every agency of {weaker}")
        if any(s.deadlines.minutes(k) > w.deadlines.minutes(k) for k in DEADLINE_KEYS):
            problems.append(f"{stronger}: deadlines must not be looser than {weaker}'s")
    return problems


@dataclass(frozen=True)
class TaskDraft:
    code: str
    title: str
    assignee: str
    due_at: datetime


@dataclass(frozen=True)
class ParticipantDraft:
    party: str
    kind: str  # "section" or "agency"
    role: str  # "lead" or "observer"


@dataclass(frozen=True)
class PlanApplication:
    level: str
    lead_section: str
    agencies: tuple[str, ...]
    due: dict[str, datetime]
    tasks: tuple[TaskDraft, ...]
    participants: tuple[ParticipantDraft, ...]
    statement_required: bool


def apply_plan(plan: LevelPlan, opened_at: datetime) -> PlanApplication:
    """What a ticket opened at `opened_at` under `plan` gets: deadlines, tasks, participants."""
    due = plan.deadlines.due_times(opened_at)
    tasks = tuple(
        TaskDraft(t.code, t.title, plan.lead_section if t.assignee == LEAD else t.assignee,
                  due[t.due])
        for t in plan.tasks)
    participants = (ParticipantDraft(plan.lead_section, "section", "lead"),
                    *agency_participants(plan.agencies))
    return PlanApplication(plan.level, plan.lead_section, plan.agencies, due, tasks,
                           participants, plan.statement_required)


def agency_participants(codes: Iterable[str]) -> tuple[ParticipantDraft, ...]:
    """Partner agencies join a ticket as observers."""
    return tuple(ParticipantDraft(code, "agency", "observer") for code in codes)


def added_agencies(current: Sequence[str], plan: LevelPlan) -> tuple[str, ...]:
    """Agencies a (stronger) plan brings that the ticket does not have yet, in plan order."""
    have = set(current)
    return tuple(a for a in plan.agencies if a not in have)


def stronger_due(current: datetime, minutes: float, escalated_at: datetime) -> datetime:
    """A deadline under a stronger plan: counted from the escalation, never later than before."""
    return min(current, escalated_at + timedelta(minutes=minutes))


def missing_tasks(have_codes: Iterable[str], plan: LevelPlan, due: dict[str, datetime],
                  lead_section: str) -> tuple[TaskDraft, ...]:
    """Task templates of a (stronger) plan the ticket does not have yet."""
    have = set(have_codes)
    return tuple(TaskDraft(t.code, t.title, lead_section if t.assignee == LEAD else t.assignee,
                           due[t.due])
                 for t in plan.tasks if t.code not in have)


# --- reopening ------------------------------------------------------------------------------

REOPENABLE = frozenset({"monitoring", "resolved", "closed"})


def reopened(status: str) -> str | None:
    """A further escalation puts a calmed or closed ticket back to responding."""
    return "responding" if status in REOPENABLE else None


# --- durable deadlines and the escalation chain ---------------------------------------------

# which fact marks a deadline as met
DEADLINE_FACTS = {"acknowledge": "acknowledged_at", "first_response": "first_response_at",
                  "resolve": "resolved_at"}


def deadline_met(kind: str, facts: Mapping[str, object]) -> bool:
    return facts.get(DEADLINE_FACTS[kind]) is not None


@dataclass(frozen=True)
class Firing:
    """What firing one step of a deadline's escalation chain does."""

    breached: bool
    notify: str | None
    tlp: str | None
    next_step: int | None
    next_due: datetime | None


def fire(kind: str, step: int, deadline_at: datetime, chain: Sequence[EscalationStep],
         facts: Mapping[str, object]) -> Firing:
    """Step n (1-based) notifies chain[n-1] unless the deadline was met; then schedules n+1."""
    if deadline_met(kind, facts) or not 1 <= step <= len(chain):
        return Firing(False, None, None, None, None)
    target = chain[step - 1].notify
    if step < len(chain):
        return Firing(True, target, NOTIFY_TLP[target], step + 1,
                      deadline_at + timedelta(minutes=chain[step].after))
    return Firing(True, target, NOTIFY_TLP[target], None, None)


def first_step_due(deadline_at: datetime, chain: Sequence[EscalationStep]) -> datetime:
    return deadline_at + timedelta(minutes=chain[0].after if chain else 0)


# --- sharing --------------------------------------------------------------------------------

def share_targets(tlp: str, ticket_agencies: Sequence[str], directory: Sequence[str]
                  ) -> tuple[str, ...]:
    """Which partner agencies may receive an event of this TLP about this ticket.

    RED never leaves the office; AMBER goes only to the agencies on the ticket (and known to the
    directory); GREEN and CLEAR go to every agency in the directory.
    """
    if tlp not in TLP_LEVELS:
        raise ValueError(f"unknown TLP {tlp!r}")
    if tlp == "RED":
        return ()
    if tlp == "AMBER":
        known = set(directory)
        return tuple(dict.fromkeys(a for a in ticket_agencies if a in known))
    return tuple(dict.fromkeys(directory))


def partner_queue_name(code: str) -> str:
    """The durable queue an agency reads its shares from (bound with routing key `code`)."""
    return f"partner.{code}"


def in_audience(event_type: str, payload: Mapping[str, Any], agency: str) -> bool:
    """Events addressed to some of the ticket's agencies only (a meeting notice: its invited
    agencies) never reach another agency, not even by a later backfill."""
    if event_type == "liaison.meeting.scheduled":
        return agency in payload.get("agencies", ())
    return True


# --- who may do what (staff roles live in the review service) -------------------------------

STAFF_ROLES = ("section_head", "leader_in_charge", "principal", "editor", "admin")
_DECIDERS = frozenset({"section_head", "leader_in_charge", "principal", "admin"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(STAFF_ROLES),
    "comment": frozenset(STAFF_ROLES),
    "task": frozenset(STAFF_ROLES),
    "transition": _DECIDERS,
    "acknowledge": _DECIDERS,
    "assign": _DECIDERS,
    "share": _DECIDERS,
    "meeting": _DECIDERS,
    "review": _DECIDERS,
    "records": frozenset({"admin"}),  # GET /records: the period's raw records, for reports
    "configuration": frozenset({"admin"}),  # GET /plans, /partner-access: read-only config
}


def may(role: str | None, action: str) -> bool:
    return role is not None and role in PERMISSIONS[action]


# --- what a ticket holds (rows of its repository, as plain values) -------------------------

@dataclass(frozen=True)
class Participant:
    id: int
    ticket_id: str
    party: str
    kind: str  # person | section | agency
    role: str
    added_at: datetime


@dataclass(frozen=True)
class Task:
    id: int
    ticket_id: str
    code: str
    title: str
    assignee: str
    status: str
    due_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    ticket_id: str
    at: datetime
    kind: str
    text: str
    event_id: str | None
    pinned: bool
    author: str | None


@dataclass(frozen=True)
class Share:
    id: int
    ticket_id: str
    agency: str
    event_id: str
    event_type: str
    tlp: str
    shared_at: datetime


@dataclass(frozen=True)
class SharedEvent:
    """An event liaison shared (or withheld) about a ticket, with its body: the backfill source."""

    event_id: str
    ticket_id: str
    event_type: str
    tlp: str
    body: str
    at: datetime


@dataclass(frozen=True)
class Timer:
    """One step of a deadline's escalation chain (a durable timer)."""

    id: int
    ticket_id: str
    kind: str
    step: int
    due_at: datetime
    fired_at: datetime | None
    outcome: str | None


@dataclass(frozen=True)
class Meeting:
    id: str
    ticket_id: str
    title: str
    starts_at: datetime
    agencies: list[str]
    minutes: str | None
    created_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """The incident's opinion figures as a sentiment event reported them."""

    id: int
    ticket_id: str
    at: datetime
    source: str
    level: str | None
    negative_ratio: float | None
    volume: int | None
    event_id: str


@dataclass(frozen=True)
class PartnerAccount:
    """An agency's access: its RabbitMQ user and the SHA-256 of its HTTP token."""

    agency: str
    amqp_user: str
    token_sha256: str
    created_at: datetime
    rotated_at: datetime | None


@dataclass(frozen=True)
class DirectoryEntry:
    """An agency as the directory table keeps it (seeded from agencies.yaml; an agency dropped
    from the file stays, inactive, because tickets and shares still name it)."""

    code: str
    name: str
    kind: str
    contacts: list[dict[str, str]]
    active: bool
    updated_at: datetime
