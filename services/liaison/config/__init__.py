"""Liaison configuration: the agency directory and the default emergency plan (YAML).

Both files are validated with marshmallow when the service starts (the partner topology
provider loads them in its setup); `LIAISON_AGENCIES` and `LIAISON_PLANS` point elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, fields, validate

from services.liaison.domain import (
    DEADLINE_KEYS,
    DEFAULT_CHAIN,
    LEAD,
    LEVEL_ORDER,
    NOTIFY_TARGETS,
    Agency,
    Deadlines,
    EscalationStep,
    LevelPlan,
    Plan,
    TaskTemplate,
    plan_problems,
)

HERE = Path(__file__).parent
AGENCY_CODE = validate.Regexp(r"^[a-z][a-z0-9_-]{1,31}$",
                              error="agency code must be lowercase [a-z0-9_-], 2..32 chars")


class _Agency(Schema):
    code = fields.String(required=True, validate=AGENCY_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    kind = fields.String(required=True, validate=validate.Length(min=1, max=64))
    contact = fields.String(load_default="", validate=validate.Length(max=255))


class _Directory(Schema):
    agencies = fields.List(fields.Nested(_Agency), required=True,
                           validate=validate.Length(min=1))


class _Deadlines(Schema):
    acknowledge = fields.Integer(required=True, validate=validate.Range(min=1))
    first_response = fields.Integer(required=True, validate=validate.Range(min=1))
    resolve = fields.Integer(required=True, validate=validate.Range(min=1))


class _Task(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    due = fields.String(required=True, validate=validate.OneOf(DEADLINE_KEYS))
    assignee = fields.String(load_default=LEAD)


class _Step(Schema):
    after = fields.Integer(required=True, validate=validate.Range(min=0))
    notify = fields.String(required=True, validate=validate.OneOf(NOTIFY_TARGETS))


class _LevelPlan(Schema):
    lead_section = fields.String(required=True, validate=validate.Length(min=1, max=128))
    agencies = fields.List(fields.String(validate=AGENCY_CODE), required=True)
    deadlines = fields.Nested(_Deadlines, required=True)
    tasks = fields.List(fields.Nested(_Task), load_default=list)
    statement_required = fields.Boolean(load_default=True)
    escalation = fields.List(fields.Nested(_Step), load_default=None,
                             validate=validate.Length(min=1))


class _Plans(Schema):
    levels = fields.Dict(keys=fields.String(validate=validate.OneOf(LEVEL_ORDER)),
                         values=fields.Nested(_LevelPlan), required=True)


@dataclass(frozen=True)
class LiaisonConfig:
    agencies: tuple[Agency, ...]
    plan: Plan

    @property
    def directory(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.agencies)

    def agency(self, code: str) -> Agency | None:
        return next((a for a in self.agencies if a.code == code), None)


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def parse_agencies(data: Any) -> tuple[Agency, ...]:
    rows = _Directory().load(data)["agencies"]
    codes = [r["code"] for r in rows]
    if len(codes) != len(set(codes)):
        raise ValueError("agency codes must be unique")
    return tuple(Agency(**r) for r in rows)


def parse_plan(data: Any) -> Plan:
    levels = _Plans().load(data)["levels"]
    return Plan({
        level: LevelPlan(level=level, lead_section=lp["lead_section"],
                         agencies=tuple(dict.fromkeys(lp["agencies"])),
                         deadlines=Deadlines(**lp["deadlines"]),
                         tasks=tuple(TaskTemplate(**t) for t in lp["tasks"]),
                         statement_required=lp["statement_required"],
                         escalation=tuple(EscalationStep(**e) for e in lp["escalation"])
                         if lp["escalation"] else DEFAULT_CHAIN)
        for level, lp in levels.items()})


def build(agencies_data: Any, plans_data: Any) -> LiaisonConfig:
    """Validate both documents; ValueError (or marshmallow's ValidationError) when unsound."""
    agencies = parse_agencies(agencies_data)
    plan = parse_plan(plans_data)
    problems = plan_problems(plan, (a.code for a in agencies))
    if problems:
        raise ValueError("emergency plan: " + "; ".join(problems))
    return LiaisonConfig(agencies, plan)


@cache
def load(agencies_path: str | None = None, plans_path: str | None = None) -> LiaisonConfig:
    agencies = Path(agencies_path or os.environ.get("LIAISON_AGENCIES", HERE / "agencies.yaml"))
    plans = Path(plans_path or os.environ.get("LIAISON_PLANS", HERE / "plans.yaml"))
    return build(_read(agencies), _read(plans))
