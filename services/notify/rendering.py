"""Messages in Chinese from Jinja2 templates (services/notify/templates/<name>.j2).

Each template defines two blocks, `subject` and `body`; the body gets the console link
appended. Templates see the event payload as `p`, `event_type`, and Chinese names of the
stage (`stage_name`) and deadline (`deadline_name`); the `local` filter shows an ISO time in
the configured time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, Undefined

from civicpulse.contracts.review import STAGE_NAMES as REVIEW_STAGE_NAMES
from services.notify.config import TEMPLATES

# each review stage as a step: who decides (the review contract's names, their one home) and
# what they do (the principal's decision is the final 审定)
STAGE_NAMES = {stage: f"{who}{'审定' if stage == 'principal' else '审核'}"
               for stage, who in REVIEW_STAGE_NAMES.items()}
DEADLINE_NAMES = {"acknowledge": "签收", "first_response": "首次回应", "resolve": "办结"}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    link: str


class _Lenient(Undefined):
    """A missing payload field renders empty instead of failing the whole message."""


@cache
def _environment(zone: str) -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=False,
                      undefined=_Lenient, keep_trailing_newline=False)
    env.filters["local"] = lambda value: _local(value, ZoneInfo(zone))
    return env


def _local(value: Any, zone: ZoneInfo) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value or "")


def link_for(console_url: str, path: str, payload: dict[str, Any]) -> str:
    if not path:
        return console_url + "/"
    try:
        return console_url + path.format(**payload)
    except (KeyError, IndexError):
        return console_url + "/"


def render(template: str, event_type: str, payload: dict[str, Any], link: str,
           zone: ZoneInfo) -> Message:
    tmpl = _environment(str(zone)).get_template(f"{template}.j2")
    names = {"p": payload, "event_type": event_type,
             "stage_name": STAGE_NAMES.get(payload.get("stage") or payload.get("next_stage")
                                           or "", payload.get("stage") or ""),
             "deadline_name": DEADLINE_NAMES.get(payload.get("deadline", ""),
                                                 payload.get("deadline", ""))}
    ctx = tmpl.new_context(names)
    subject = "".join(tmpl.blocks["subject"](ctx)).strip()
    body = "".join(tmpl.blocks["body"](ctx)).strip()
    return Message(subject=" ".join(subject.split()), body=f"{body}\n\n查看详情：{link}", link=link)


__all__ = ["Message", "link_for", "render"]
