"""The Jinja2 environment: templates/ beside this file, autoescaped (every value is text unless
a template says otherwise, which none does), with the filters of `present.py`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.console import present

HERE = Path(__file__).parent


@cache
def environment(office_tz: str) -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(("html", "j2"), default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["time"] = lambda v, fmt="%Y-%m-%d %H:%M": present.local_time(v, office_tz, fmt)
    env.filters["label"] = lambda code, mapping: present.label(mapping, code)
    env.globals["countdown"] = present.countdown
    env.globals["short_time"] = lambda v, now: present.short_time(v, office_tz, now)
    env.globals["office_tz"] = office_tz
    return env


def render(office_tz: str, template: str, /, **context: Any) -> str:
    return environment(office_tz).get_template(template).render(**context)
