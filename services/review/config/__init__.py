"""Review configuration: workflows and reference numbering (YAML), validated at start, and the
overdue sweep's interval (`REVIEW_OVERDUE_SWEEP_SECONDS`, civicpulse.settings)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from marshmallow import Schema, fields, validate

from civicpulse import settings
from civicpulse.config_files import read_yaml
from services.review.domain import RESUME_AT, SEVERITIES, STAGES, Workflow
from services.review.prechecks import RULES, Prechecker, Rules, Term

HERE = Path(__file__).parent


class _Workflow(Schema):
    stages = fields.List(fields.String(validate=validate.OneOf(STAGES)), required=True,
                         validate=validate.Length(min=1))
    deadline_minutes = fields.Dict(keys=fields.String(validate=validate.OneOf(STAGES)),
                                   values=fields.Integer(validate=validate.Range(min=1)),
                                   load_default=dict)
    deadline_seconds = fields.Dict(keys=fields.String(validate=validate.OneOf(STAGES)),
                                   values=fields.Integer(validate=validate.Range(min=1)),
                                   load_default=dict)
    resume_at = fields.String(load_default="same", validate=validate.OneOf(RESUME_AT))


class _Reference(Schema):
    prefix = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{1,8}$"))
    timezone = fields.String(load_default="Asia/Shanghai")


class _Config(Schema):
    reference = fields.Nested(_Reference, required=True)
    workflows = fields.Dict(keys=fields.String(), values=fields.Nested(_Workflow),
                            required=True)


class _Term(Schema):
    term = fields.String(required=True, validate=validate.Length(min=1))
    category = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    note = fields.String(load_default="")


class _Title(Schema):
    min_length = fields.Integer(load_default=4, validate=validate.Range(min=1))
    max_length = fields.Integer(load_default=60, validate=validate.Range(min=1))


class _Outdated(Schema):
    present_tense = fields.List(fields.String(), load_default=list)


class _Prechecks(Schema):
    severity = fields.Dict(keys=fields.String(validate=validate.OneOf(RULES)),
                           values=fields.String(validate=validate.OneOf(SEVERITIES)),
                           load_default=dict)
    title = fields.Nested(_Title, load_default=dict)
    required_fields = fields.List(fields.String(), load_default=["title", "body", "author"])
    outdated = fields.Nested(_Outdated, load_default=dict)
    lexicon = fields.List(fields.Nested(_Term), load_default=list)


@dataclass(frozen=True)
class ReviewConfig:
    workflows: dict[str, Workflow]
    reference_prefix: str
    timezone: ZoneInfo
    prechecker: Prechecker | None = None
    sweep_seconds: float = 15.0


def load_prechecks(path: str | Path | None = None) -> Prechecker:
    file = Path(path or settings.config_file("REVIEW_PRECHECKS", HERE / "prechecks.yaml"))
    data = read_yaml(file, _Prechecks)
    title = _Title().load(data["title"]) if not data["title"] else data["title"]
    outdated = data["outdated"] or {"present_tense": []}
    return Prechecker(Rules(
        terms=tuple(Term(**t) for t in data["lexicon"]), severity=data["severity"],
        title_min=title.get("min_length", 4), title_max=title.get("max_length", 60),
        required_fields=tuple(data["required_fields"]),
        present_tense=tuple(outdated.get("present_tense", ()))))


def sources() -> dict[str, dict[str, str]]:
    """Where the workflows and the pre-check rules are configured: file and overriding
    variable (the console's 管理 page shows it)."""
    return {"workflows": {"file": str(settings.config_file("REVIEW_CONFIG",
                                                           HERE / "workflows.yaml")),
                          "variable": "REVIEW_CONFIG"},
            "prechecks": {"file": str(settings.config_file("REVIEW_PRECHECKS",
                                                           HERE / "prechecks.yaml")),
                          "variable": "REVIEW_PRECHECKS"}}


def load(path: str | None = None) -> ReviewConfig:
    """The configuration now (the YAML is parsed once per file content: civicpulse.config)."""
    file = Path(path or settings.config_file("REVIEW_CONFIG", HERE / "workflows.yaml"))
    data = read_yaml(file, _Config)
    workflows = {name: Workflow(name, tuple(w["stages"]), w["deadline_minutes"],
                                w["deadline_seconds"], w["resume_at"])
                 for name, w in data["workflows"].items()}
    for required in ("default", "expedited"):
        if required not in workflows:
            raise ValueError(f"{file}: workflow {required!r} is missing")
    ref = data["reference"]
    return ReviewConfig(workflows, ref["prefix"], ZoneInfo(ref["timezone"]), load_prechecks(),
                        sweep_seconds=settings.value("REVIEW_OVERDUE_SWEEP_SECONDS"))
