"""Liaison configuration: the agency directory, its sharing groups and the default emergency
plan (YAML).

Both files are validated with marshmallow when the service starts (the partner topology
provider loads them in its setup); `LIAISON_AGENCIES` and `LIAISON_PLANS` point elsewhere.
A plan's `agencies` may name sharing groups (`group:core`); they are expanded here, at load
time, so the rest of the service only ever sees agency codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields, validate

from civicpulse import settings
from civicpulse.config_files import read_yaml
from services.liaison.domain import (
    AGENCY_KINDS,
    DEADLINE_KEYS,
    DEFAULT_CHAIN,
    GROUP_PREFIX,
    LEAD,
    LEVEL_ORDER,
    NOTIFY_TARGETS,
    Agency,
    Deadlines,
    EscalationStep,
    LevelPlan,
    Plan,
    TaskTemplate,
    UnknownGroup,
    expand_agencies,
    group_problems,
    plan_problems,
    resolve_party,
)

HERE = Path(__file__).parent
AGENCY_CODE = validate.Regexp(r"^[a-z][a-z0-9_-]{1,31}$",
                              error="agency code must be lowercase [a-z0-9_-], 2..32 chars")


AGENCY_OR_GROUP = validate.Regexp(r"^(group:)?[a-z][a-z0-9_-]{1,31}$",
                                  error="an agency code or group:NAME")


class _Contact(Schema):
    desk = fields.String(required=True, validate=validate.Length(min=1, max=255))
    phone = fields.String(load_default=None, validate=validate.Length(max=64))
    email = fields.Email(load_default=None)
    hours = fields.String(load_default=None, validate=validate.Length(max=64))


class _Agency(Schema):
    code = fields.String(required=True, validate=AGENCY_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    kind = fields.String(required=True, validate=validate.OneOf(AGENCY_KINDS))
    contact = fields.String(load_default="", validate=validate.Length(max=255))
    contacts = fields.List(fields.Nested(_Contact), load_default=list)
    active = fields.Boolean(load_default=True)


class _Directory(Schema):
    agencies = fields.List(fields.Nested(_Agency), required=True,
                           validate=validate.Length(min=1))
    groups = fields.Dict(keys=fields.String(validate=AGENCY_CODE),
                         values=fields.List(fields.String(validate=AGENCY_CODE)),
                         load_default=dict)


class _Deadlines(Schema):
    # minutes; fractions (0.1 = 6 s) are for drills and end-to-end tests
    acknowledge = fields.Float(required=True, validate=validate.Range(min=0.01))
    first_response = fields.Float(required=True, validate=validate.Range(min=0.01))
    resolve = fields.Float(required=True, validate=validate.Range(min=0.01))


class _Task(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    due = fields.String(required=True, validate=validate.OneOf(DEADLINE_KEYS))
    assignee = fields.String(load_default=LEAD)


class _Step(Schema):
    after = fields.Float(required=True, validate=validate.Range(min=0))
    notify = fields.String(required=True, validate=validate.OneOf(NOTIFY_TARGETS))


class _LevelPlan(Schema):
    lead_section = fields.String(required=True, validate=validate.Length(min=1, max=128))
    agencies = fields.List(fields.String(validate=AGENCY_OR_GROUP), required=True)
    deadlines = fields.Nested(_Deadlines, required=True)
    tasks = fields.List(fields.Nested(_Task), load_default=list)
    statement_required = fields.Boolean(load_default=True)
    escalation = fields.List(fields.Nested(_Step), load_default=None,
                             validate=validate.Length(min=1))
    warn_before = fields.Float(load_default=0, validate=validate.Range(min=0))


class _Plans(Schema):
    levels = fields.Dict(keys=fields.String(validate=validate.OneOf(LEVEL_ORDER)),
                         values=fields.Nested(_LevelPlan), required=True)


@dataclass(frozen=True)
class LiaisonConfig:
    agencies: tuple[Agency, ...]
    plan: Plan
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    deadline_scan_seconds: float = 1.0  # LIAISON_DEADLINE_SCAN_SECONDS: the deadlines scan

    @property
    def directory(self) -> tuple[str, ...]:
        """The active agencies' codes: who may be shared with and put on tickets."""
        return tuple(a.code for a in self.agencies if a.active)

    def agency(self, code: str) -> Agency | None:
        return next((a for a in self.agencies if a.code == code), None)

    def resolve(self, name: str) -> tuple[str, ...]:
        """An agency code, or a sharing group (`core` / `group:core`) → its active members;
        UnknownGroup when it is neither."""
        active = set(self.directory)
        return tuple(c for c in resolve_party(name, self.groups, active) if c in active)


def _read(path: Path) -> Any:
    """The file's YAML, parsed once per content (civicpulse.config_files.read_yaml); `build`
    validates it."""
    return read_yaml(path)


def _agency(row: dict[str, Any]) -> Agency:
    contacts = tuple({k: v for k, v in c.items() if v is not None} for c in row["contacts"])
    if not contacts and row["contact"]:
        contacts = ({"desk": row["contact"]},)
    contact = row["contact"] or (contacts[0]["desk"] if contacts else "")
    return Agency(row["code"], row["name"], row["kind"], contact, contacts, row["active"])


def parse_directory(data: Any) -> tuple[tuple[Agency, ...], dict[str, tuple[str, ...]]]:
    """The agencies and the sharing groups (each member must be in the directory)."""
    doc = _Directory().load(data)
    codes = [r["code"] for r in doc["agencies"]]
    if len(codes) != len(set(codes)):
        raise ValueError("agency codes must be unique")
    groups = {name: tuple(dict.fromkeys(members)) for name, members in doc["groups"].items()}
    problems = group_problems(groups, codes)
    if problems:
        raise ValueError("sharing groups: " + "; ".join(problems))
    return tuple(_agency(r) for r in doc["agencies"]), groups


def parse_agencies(data: Any) -> tuple[Agency, ...]:
    return parse_directory(data)[0]


def _expanded(level: str, items: list[str], groups: dict[str, tuple[str, ...]]
              ) -> tuple[str, ...]:
    try:
        return expand_agencies(items, groups)
    except UnknownGroup as exc:
        raise ValueError(f"emergency plan: {level}: unknown group "
                         f"{GROUP_PREFIX}{exc}") from exc


def parse_plan(data: Any, groups: dict[str, tuple[str, ...]] | None = None) -> Plan:
    """The plan with every `group:NAME` in a level's agencies replaced by its members."""
    levels = _Plans().load(data)["levels"]
    return Plan({
        level: LevelPlan(level=level, lead_section=lp["lead_section"],
                         agencies=_expanded(level, lp["agencies"], groups or {}),
                         deadlines=Deadlines(**lp["deadlines"]),
                         tasks=tuple(TaskTemplate(**t) for t in lp["tasks"]),
                         statement_required=lp["statement_required"],
                         escalation=tuple(EscalationStep(**e) for e in lp["escalation"])
                         if lp["escalation"] else DEFAULT_CHAIN,
                         warn_before=lp["warn_before"])
        for level, lp in levels.items()})


def build(agencies_data: Any, plans_data: Any) -> LiaisonConfig:
    """Validate both documents; ValueError (or marshmallow's ValidationError) when unsound."""
    agencies, groups = parse_directory(agencies_data)
    plan = parse_plan(plans_data, groups)
    problems = plan_problems(plan, (a.code for a in agencies))
    if problems:
        raise ValueError("emergency plan: " + "; ".join(problems))
    return LiaisonConfig(agencies, plan, groups)


def load(agencies_path: str | None = None, plans_path: str | None = None) -> LiaisonConfig:
    """The configuration now (the service's Config provider loads it once per container)."""
    agencies = Path(agencies_path or settings.config_file("LIAISON_AGENCIES",
                                                          HERE / "agencies.yaml"))
    plans = Path(plans_path or settings.config_file("LIAISON_PLANS", HERE / "plans.yaml"))
    return replace(build(_read(agencies), _read(plans)),
                   deadline_scan_seconds=settings.value("LIAISON_DEADLINE_SCAN_SECONDS"))
