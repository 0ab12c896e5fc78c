"""Review configuration: workflows and reference numbering (YAML), validated at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from marshmallow import Schema, fields, validate

from services.review.domain import STAGES, Workflow

HERE = Path(__file__).parent


class _Workflow(Schema):
    stages = fields.List(fields.String(validate=validate.OneOf(STAGES)), required=True,
                         validate=validate.Length(min=1))
    deadline_minutes = fields.Dict(keys=fields.String(validate=validate.OneOf(STAGES)),
                                   values=fields.Integer(validate=validate.Range(min=1)),
                                   load_default=dict)


class _Reference(Schema):
    prefix = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{1,8}$"))
    timezone = fields.String(load_default="Asia/Shanghai")


class _Config(Schema):
    reference = fields.Nested(_Reference, required=True)
    workflows = fields.Dict(keys=fields.String(), values=fields.Nested(_Workflow),
                            required=True)


@dataclass(frozen=True)
class ReviewConfig:
    workflows: dict[str, Workflow]
    reference_prefix: str
    timezone: ZoneInfo


@cache
def load(path: str | None = None) -> ReviewConfig:
    file = Path(path or os.environ.get("REVIEW_CONFIG", HERE / "workflows.yaml"))
    data = _Config().load(yaml.safe_load(file.read_text(encoding="utf-8")))
    workflows = {name: Workflow(name, tuple(w["stages"]), w["deadline_minutes"])
                 for name, w in data["workflows"].items()}
    for required in ("default", "expedited"):
        if required not in workflows:
            raise ValueError(f"{file}: workflow {required!r} is missing")
    ref = data["reference"]
    return ReviewConfig(workflows, ref["prefix"], ZoneInfo(ref["timezone"]))
