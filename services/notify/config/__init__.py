"""Notify configuration: the rules (who is told about what) and the channels (YAML), validated
with marshmallow when the service starts. `NOTIFY_RULES` and `NOTIFY_CHANNELS` point at other
files; secrets and addresses come from the environment (see channels.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from civicpulse import settings
from civicpulse.config_files import ConfigError, read_yaml
from services.notify.domain import (
    AUDIENCE_KINDS,
    PERSONAL_CHANNELS,
    Audience,
    Rule,
    parse_clock,
)

HERE = Path(__file__).parent
TEMPLATES = HERE.parent / "templates"
ROBOT_KINDS = ("wecom", "dingtalk", "feishu")


class _Rule(Schema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,63}$"))
    event = fields.String(required=True, validate=validate.Regexp(r"^[a-z]+\.[a-z_.]+$"))
    template = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*$"))
    to = fields.List(fields.Dict(keys=fields.String(validate=validate.OneOf(AUDIENCE_KINDS)),
                                 values=fields.String(), validate=validate.Length(equal=1)),
                     load_default=list)
    channels = fields.List(fields.String(validate=validate.OneOf(PERSONAL_CHANNELS)),
                           load_default=lambda: ["email", "inbox"])
    robots = fields.List(fields.String(), load_default=list)
    when = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()), load_default=dict)
    urgent = fields.Boolean(load_default=False)
    urgent_when = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()),
                              load_default=dict)
    link = fields.String(load_default="")


class _Rules(Schema):
    rules = fields.List(fields.Nested(_Rule), required=True)


class _Email(Schema):
    host = fields.String(load_default="")
    port = fields.Integer(load_default=587, validate=validate.Range(min=1, max=65535))
    starttls = fields.Boolean(load_default=True)
    username = fields.String(load_default="")
    password = fields.String(load_default="")
    sender = fields.String(required=True, validate=validate.Length(min=3))
    timeout_seconds = fields.Float(load_default=10, validate=validate.Range(min=0.1))
    cafile = fields.String(load_default="")


class _Robot(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(ROBOT_KINDS))
    url = fields.String(load_default="")
    secret = fields.String(load_default="")


class _Retry(Schema):
    max_attempts = fields.Integer(load_default=6, validate=validate.Range(min=1, max=100))
    base_seconds = fields.Float(load_default=5, validate=validate.Range(min=0))
    cap_seconds = fields.Float(load_default=600, validate=validate.Range(min=0))


class _Send(Schema):
    batch = fields.Integer(load_default=200, validate=validate.Range(min=1, max=5000))
    lease_seconds = fields.Float(load_default=60, validate=validate.Range(min=0.5))
    poll_seconds = fields.Float(load_default=0.5, validate=validate.Range(min=0.01))
    concurrency = fields.Integer(load_default=16, validate=validate.Range(min=1, max=64))


class _Digest(Schema):
    at = fields.String(load_default="08:30", allow_none=True,
                       validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$"))


class _Channels(Schema):
    console_url = fields.String(required=True)
    timezone = fields.String(load_default="Asia/Shanghai")
    email = fields.Nested(_Email, required=True)
    robots = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]*$")),
                         values=fields.Nested(_Robot), load_default=dict)
    retry = fields.Dict(keys=fields.String(validate=validate.OneOf(("email", "robot"))),
                        values=fields.Nested(_Retry), load_default=dict)
    send = fields.Nested(_Send, load_default=lambda: _Send().load({}))
    digest = fields.Nested(_Digest, load_default=lambda: _Digest().load({}))

    @validates_schema
    def _timezone_exists(self, data: dict[str, Any], **_: Any) -> None:
        try:
            ZoneInfo(data.get("timezone", "Asia/Shanghai"))
        except Exception as exc:  # noqa: BLE001 - any failure is a bad name
            raise ValidationError(f"unknown time zone {data.get('timezone')}",
                                  "timezone") from exc


@dataclass(frozen=True)
class Email:
    host: str
    port: int
    starttls: bool
    username: str
    password: str
    sender: str
    timeout_seconds: float
    cafile: str = ""


@dataclass(frozen=True)
class Robot:
    name: str
    kind: str
    url: str
    secret: str


@dataclass(frozen=True)
class Retry:
    max_attempts: int
    base_seconds: float
    cap_seconds: float


@dataclass(frozen=True)
class NotifyConfig:
    rules: tuple[Rule, ...]
    console_url: str
    timezone: ZoneInfo
    email: Email
    robots: dict[str, Robot]
    retry: dict[str, Retry]
    batch: int
    lease_seconds: float
    poll_seconds: float
    concurrency: int = 4
    digest_at: time | None = None
    digest_check_seconds: float = 60.0

    def rules_for(self, event_type: str) -> list[Rule]:
        return [r for r in self.rules if r.event == event_type]

    def event_types(self) -> set[str]:
        return {r.event for r in self.rules}

    def active_robots(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """The rule's robots that have a URL (a robot without one is off)."""
        return tuple(n for n in names if self.robots[n].url)


__all__ = ["ConfigError", "NotifyConfig", "build", "load"]


def _rule(raw: dict[str, Any]) -> Rule:
    return Rule(
        name=raw["name"], event=raw["event"], template=raw["template"],
        to=tuple(Audience(*next(iter(entry.items()))) for entry in raw["to"]),
        channels=tuple(raw["channels"]), robots=tuple(raw["robots"]),
        when={k: tuple(v) for k, v in raw["when"].items()}, urgent=raw["urgent"],
        urgent_when={k: tuple(v) for k, v in raw["urgent_when"].items()}, link=raw["link"])


def _env_email(raw: dict[str, Any], env: Mapping[str, str]) -> Email:
    def pick(key: str, name: str) -> Any:
        return env.get(f"NOTIFY_SMTP_{name}", raw[key])
    starttls = str(pick("starttls", "STARTTLS")).lower() in ("1", "true", "yes", "on")
    return Email(host=pick("host", "HOST"), port=int(pick("port", "PORT")), starttls=starttls,
                 username=pick("username", "USER"), password=pick("password", "PASSWORD"),
                 sender=pick("sender", "SENDER"), timeout_seconds=float(raw["timeout_seconds"]),
                 cafile=pick("cafile", "CAFILE"))


def _env_robot(name: str, raw: dict[str, Any], env: Mapping[str, str]) -> Robot:
    key = f"NOTIFY_ROBOT_{name.upper()}"
    return Robot(name, raw["kind"], env.get(f"{key}_URL", raw["url"]),
                 env.get(f"{key}_SECRET", raw["secret"]))


def build(rules_path: Path, channels_path: Path, env: Mapping[str, str]) -> NotifyConfig:
    rules = tuple(_rule(r) for r in read_yaml(rules_path, _Rules)["rules"])
    ch = read_yaml(channels_path, _Channels)
    robots = {n: _env_robot(n, r, env) for n, r in ch["robots"].items()}
    problems = [f"rule {r.name}: unknown robot {n}" for r in rules for n in r.robots
                if n not in robots]
    problems += [f"rule {r.name}: no template {r.template}.j2" for r in rules
                 if not (TEMPLATES / f"{r.template}.j2").exists()]
    names = [r.name for r in rules]
    problems += [f"rule {n} is defined twice" for n in sorted(set(names)) if names.count(n) > 1]
    if problems:
        raise ConfigError("; ".join(problems))
    retry = {c: Retry(**ch["retry"].get(c, _Retry().load({}))) for c in ("email", "robot")}
    send = ch["send"]
    return NotifyConfig(rules=rules, console_url=env.get("NOTIFY_CONSOLE_URL",
                                                         ch["console_url"]).rstrip("/"),
                        timezone=ZoneInfo(ch["timezone"]), email=_env_email(ch["email"], env),
                        robots=robots, retry=retry, batch=send["batch"],
                        lease_seconds=float(env.get("NOTIFY_SEND_LEASE_SECONDS",
                                                    send["lease_seconds"])),
                        poll_seconds=send["poll_seconds"],
                        concurrency=int(env.get("NOTIFY_SEND_CONCURRENCY", send["concurrency"])),
                        digest_at=_clock(env.get("NOTIFY_DIGEST_AT", ch["digest"]["at"])),
                        digest_check_seconds=settings.value("NOTIFY_DIGEST_CHECK_SECONDS"))


def _clock(text: str | None) -> time | None:
    """"08:30" -> 08:30; "" or "off" -> no digest."""
    if not text or text == "off":
        return None
    return parse_clock(text)


def load() -> NotifyConfig:
    """The configuration now (the YAML is parsed once per file content: civicpulse.config)."""
    return build(settings.config_file("NOTIFY_RULES", HERE / "rules.yaml"),
                 settings.config_file("NOTIFY_CHANNELS", HERE / "channels.yaml"),
                 settings.environment())
