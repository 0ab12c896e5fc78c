"""What the 工作台 shows a person, from the services' APIs called as them. Pure shaping of the
APIs' answers (no nameko); `api` is anything with `get(service, path, **params)`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from services.console import present

IN_WORK = ("open", "acknowledged", "responding", "monitoring")
LEVELS = ("I", "II", "III", "IV")  # strongest first
STAGE_OF_ROLE = {"section_head": "section_head", "leader_in_charge": "leader_in_charge",
                 "principal": "principal"}
OPEN_INCIDENTS = ("detected", "escalated", "subsiding")
OPEN_TASKS = ("todo", "doing")


class Api(Protocol):
    def get(self, service: str, path: str, **params: Any) -> Any: ...


def my_cases(api: Api, me: dict[str, str]) -> list[dict[str, Any]]:
    """Review cases open at my stage (the stage my role decides); none for other roles."""
    stage = STAGE_OF_ROLE.get(me["role"])
    if stage is None:
        return []
    cases = api.get("review", "/cases", status="open", stage=stage)["cases"]
    return sorted(cases, key=lambda c: c.get("stage_due_at") or "9999")


def leads(ticket: dict[str, Any], me: dict[str, str]) -> bool:
    """I lead a ticket when my section is its lead section or I command it."""
    return bool(me.get("section")) and ticket.get("lead_section") == me["section"] or \
        ticket.get("commander") == me["name"]


def next_deadline(ticket: dict[str, Any]) -> tuple[str, str | None]:
    """The ticket's next plan deadline still to meet: (which, when)."""
    met = ticket.get("met") or {}
    for key in ("acknowledge", "first_response", "resolve"):
        if not met.get(key) and (ticket.get("deadlines") or {}).get(key):
            return key, ticket["deadlines"][key]
    return "", None


def my_tickets(api: Api, me: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    """Tickets in work that I lead (all tickets in work for a leader, principal or admin, who
    lead every section), the most urgent deadline first."""
    tickets = api.get("liaison", "/tickets")["tickets"]
    everyone = me["role"] in ("leader_in_charge", "principal", "admin")
    mine = [t for t in tickets if t["status"] in IN_WORK and (everyone or leads(t, me))]
    out = []
    for t in mine:
        key, due = next_deadline(t)
        out.append({**t, "next_deadline": key, "next_due": due,
                    "countdown": present.countdown(due, now)})
    return sorted(out, key=lambda t: (t["next_due"] is None, t["next_due"] or ""))


def my_tasks(api: Api, me: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    """Tasks assigned to me (or to my section) not done yet, the earliest due first."""
    tasks = api.get("liaison", "/tasks", assignee=me["name"],
                    section=me.get("section") or None)["tasks"]
    return [{**t, "countdown": present.countdown(t.get("due_at"), now)}
            for t in sorted(tasks, key=lambda t: t.get("due_at") or "")
            if t.get("status") in OPEN_TASKS]


def open_incidents(api: Api) -> dict[str, list[dict[str, Any]]]:
    """Open incidents by level, strongest level first."""
    incidents = api.get("sentiment", "/incidents")["incidents"]
    by_level: dict[str, list[dict[str, Any]]] = {lv: [] for lv in LEVELS}
    for i in incidents:
        if i.get("status") in OPEN_INCIDENTS:
            by_level.setdefault(i.get("level", "IV"), []).append(i)
    return by_level
