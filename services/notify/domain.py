"""Pure notification rules: who is told, when, how often a send is retried.

No nameko, SQLAlchemy, kombu, pika or eventlet here (import-linter checks it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

CHANNELS = ("email", "robot", "inbox")
# staff roles allowed each action (the inbox and preferences are every person's own)
PERMISSIONS = {"read the delivery log": ("admin", "principal"),
               "records": ("admin",)}  # GET /records: the period's raw records, for reports


def may(role: str | None, action: str) -> bool:
    return role in PERMISSIONS.get(action, ())


def dedupe_key(event_id: str, recipient: str, channel: str) -> str:
    """One delivery per event × recipient × channel: a redelivered event adds nothing."""
    return f"{event_id}|{recipient}|{channel}"


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Delay before try number `attempt + 1` after `attempt` failures: base·2^(n-1), capped."""
    if attempt < 1:
        return 0.0
    return min(cap, base * 2 ** (attempt - 1))


def parse_clock(text: str) -> time:
    """"22:00" -> time(22, 0); raises ValueError on anything else."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(local_now: datetime, start: time, end: time) -> datetime | None:
    """The end of the quiet period `local_now` falls in (same tzinfo), or None if not quiet.

    A period may wrap past midnight (22:00-07:00); start == end means no quiet hours.
    """
    if start == end:
        return None
    clock = local_now.time().replace(tzinfo=None)
    wraps = start > end
    quiet = (start <= clock or clock < end) if wraps else (start <= clock < end)
    if not quiet:
        return None
    until = local_now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local_now:
        until += timedelta(days=1)
    return until


DIGEST_WINDOW = timedelta(hours=1)


def in_digest_window(local_now: datetime, at: time) -> bool:
    """True in the hour after the digest time (local clock)."""
    start = local_now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return start <= local_now < start + DIGEST_WINDOW


# --- who is told -------------------------------------------------------------------------------

AUDIENCE_KINDS = ("role", "role_of", "section", "section_of", "person_of", "people_of",
                  "agencies_of", "participant")
ANY_ROLE = "any"
PERSONAL_CHANNELS = ("email", "inbox")


@dataclass(frozen=True)
class Audience:
    """One `to:` entry of a rule: `role: leader_in_charge`, `section_of: lead_section`, ...

    `role`/`section` name a fixed role or section; the `*_of` kinds name a payload field
    holding a role (`role_of: stage`), a section, a staff name (`person_of: author`), a list
    of staff names (`people_of: escalated_to`) or a list of agency codes (`agencies_of`).
    `participant: R` is the ticket's participants with ticket role R (`any`: all of them), as
    liaison lists them in the payload's `participants`: a person is that staff member, a
    section every staff member of it; agencies are left to `agencies_of`.
    """

    kind: str
    value: str


@dataclass(frozen=True)
class Rule:
    name: str
    event: str
    template: str
    to: tuple[Audience, ...] = ()
    channels: tuple[str, ...] = ("email", "inbox")
    robots: tuple[str, ...] = ()
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    urgent: bool = False
    urgent_when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    link: str = ""

    def applies(self, payload: Mapping[str, Any]) -> bool:
        return _matches(self.when, payload)

    def is_urgent(self, payload: Mapping[str, Any]) -> bool:
        return self.urgent or bool(self.urgent_when) and _matches(self.urgent_when, payload)


def _matches(conditions: Mapping[str, tuple[Any, ...]], payload: Mapping[str, Any]) -> bool:
    return all(payload.get(key) in accepted for key, accepted in conditions.items())


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    section: str | None = None
    email: str | None = None
    im_id: str | None = None


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """Someone a rule reaches: a staff member, one agency contact address, or a group robot."""

    recipient: str           # staff:NAME, agency:CODE:ADDRESS, robot:NAME
    kind: str                # staff, agency, robot
    display: str
    email: str | None = None
    person: str | None = None


def audience(rule: Rule, payload: Mapping[str, Any], people: Sequence[Person],
             agencies: Mapping[str, Agency]) -> list[Target]:
    """Everyone the rule's `to:` entries name for this payload, each once, in order."""
    found: dict[str, Target] = {}
    for entry in rule.to:
        for target in _expand(entry, payload, people, agencies):
            found.setdefault(target.recipient, target)
    return list(found.values())


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def participants(payload: Mapping[str, Any], role: str) -> tuple[list[str], list[str]]:
    """(staff names, sections) among the payload's ticket participants holding `role`."""
    on_ticket = [p for p in payload.get("participants") or () if isinstance(p, Mapping)
                 and (role == ANY_ROLE or p.get("role") == role)]
    return ([str(p["party"]) for p in on_ticket if p.get("kind") == "person"],
            [str(p["party"]) for p in on_ticket if p.get("kind") == "section"])


def _expand(entry: Audience, payload: Mapping[str, Any], people: Sequence[Person],
            agencies: Mapping[str, Agency]) -> list[Target]:
    if entry.kind == "participant":
        names, sections = participants(payload, entry.value)
        return [_staff(p) for p in people if p.name in names or p.section in sections]
    if entry.kind == "agencies_of":
        return [Target(f"agency:{code}:{address}", "agency", agencies[code].name, address)
                for code in _as_list(payload.get(entry.value)) if code in agencies
                for address in agencies[code].emails]
    wanted = [entry.value] if entry.kind in ("role", "section") \
        else _as_list(payload.get(entry.value))
    attribute = {"role": "role", "role_of": "role", "section": "section",
                 "section_of": "section", "person_of": "name", "people_of": "name"}[entry.kind]
    return [_staff(p) for p in people if getattr(p, attribute) in wanted]


def _staff(person: Person) -> Target:
    return Target(f"staff:{person.name}", "staff", person.name, person.email, person.name)


# --- on which channel, and when ----------------------------------------------------------------

@dataclass(frozen=True)
class Preference:
    channels: tuple[str, ...] = PERSONAL_CHANNELS
    quiet_start: time | None = None
    quiet_end: time | None = None


@dataclass(frozen=True)
class Planned:
    recipient: str
    channel: str
    address: str | None
    not_before: datetime
    held_reason: str | None = None


def plan(rule: Rule, targets: Sequence[Target], robots: Sequence[str], urgent: bool,
         prefs: Mapping[str, Preference], local_now: datetime) -> list[Planned]:
    """The deliveries of one event under one rule.

    Staff get the rule's personal channels they accept (an urgent message ignores opt-outs and
    quiet hours); an e-mail in a person's quiet hours waits until they end. Agencies get
    e-mail only; each configured robot named by the rule gets one message.
    """
    out: list[Planned] = []
    for t in targets:
        if t.kind == "agency":
            if "email" in rule.channels:
                out.append(Planned(t.recipient, "email", t.email, local_now))
            continue
        pref = prefs.get(t.person or "", Preference())
        for channel in rule.channels:
            if channel not in pref.channels and not urgent:
                continue
            address = t.email if channel == "email" else t.person
            out.append(_timed(t.recipient, channel, address, pref, urgent, local_now))
    out.extend(Planned(f"robot:{name}", "robot", name, local_now) for name in robots)
    return out


def _timed(recipient: str, channel: str, address: str | None, pref: Preference, urgent: bool,
           local_now: datetime) -> Planned:
    if channel == "email" and not urgent and pref.quiet_start and pref.quiet_end:
        until = quiet_until(local_now, pref.quiet_start, pref.quiet_end)
        if until is not None:
            return Planned(recipient, channel, address, until, "quiet_hours")
    return Planned(recipient, channel, address, local_now)


# --- after a try -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    status: str                  # sent, pending (retry later), dead
    next_attempt_at: datetime | None = None
    error: str | None = None


def after_attempt(attempts: int, error: str | None, permanent: bool, max_attempts: int,
                  base: float, cap: float, now: datetime) -> Outcome:
    """`attempts` counts this try. Success: sent; a permanent error or the last try: dead."""
    if error is None:
        return Outcome("sent")
    if permanent or attempts >= max_attempts:
        return Outcome("dead", error=error)
    return Outcome("pending", now + timedelta(seconds=backoff_seconds(attempts, base, cap)),
                   error)
