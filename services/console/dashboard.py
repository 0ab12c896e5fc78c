"""What the 工作台 shows a person, from the services' APIs called as them. Pure shaping of the
APIs' answers (no nameko); `api` is anything with `get(service, path, **params)`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from services.console import present

LEVELS = ("I", "II", "III", "IV")  # strongest first
STAGE_OF_ROLE = {"section_head": "section_head", "leader_in_charge": "leader_in_charge",
                 "principal": "principal"}
OPEN_INCIDENTS = ("detected", "escalated", "subsiding")
OPEN_TASKS = ("todo", "doing")
EVERY_SECTION = ("leader_in_charge", "principal", "admin")  # roles that lead every section
HOME_CASES = 20  # cases at my stage listed on the home page (the earliest due first)
HOME_TASKS = 20  # my open tasks listed on the home page (the earliest due first)
HOME_TICKETS = 20  # tickets in work listed on the home page (the most urgent first)
HOME_INCIDENTS = 8  # newest open incidents listed per level


class Api(Protocol):
    def get(self, service: str, path: str, **params: Any) -> Any: ...


def my_cases(api: Api, me: dict[str, str]) -> dict[str, Any]:
    """Review cases open at my stage (the stage my role decides), the earliest due first:
    `rows` (at most HOME_CASES) and `total`; none for other roles."""
    stage = STAGE_OF_ROLE.get(me["role"])
    if stage is None:
        return {"rows": [], "total": 0}
    answer = api.get("review", "/cases", status="open", stage=stage, order="due",
                     limit=HOME_CASES)
    return {"rows": answer["cases"], "total": answer.get("total", len(answer["cases"]))}


def next_deadline(ticket: dict[str, Any]) -> tuple[str, str | None]:
    """The ticket's next plan deadline still to meet: (which, when)."""
    met = ticket.get("met") or {}
    for key in ("acknowledge", "first_response", "resolve"):
        if not met.get(key) and (ticket.get("deadlines") or {}).get(key):
            return key, ticket["deadlines"][key]
    return "", None


def my_tickets(api: Api, me: dict[str, str], now: datetime,
               limit: int = HOME_TICKETS) -> dict[str, Any]:
    """The tickets in work that I lead, the most urgent deadline first: `rows` (at most
    `limit`) and `total`. A leader, the principal or an administrator leads every section;
    anyone else leads their section's tickets and those they command (liaison filters, orders
    and pages; the two asks are merged here)."""
    ask = {"in_work": "true", "order": "due", "limit": limit}
    if me["role"] in EVERY_SECTION:
        answers = [api.get("liaison", "/tickets", **ask)]
    else:
        answers = [api.get("liaison", "/tickets", **ask, **{key: value})
                   for key, value in (("lead_section", me.get("section")),
                                      ("commander", me.get("name"))) if value]
    found = {t["id"]: t for answer in answers for t in answer["tickets"]}
    rows = []
    for t in found.values():
        key, due = next_deadline(t)
        rows.append({**t, "next_deadline": key, "next_due": due,
                     "countdown": present.countdown(due, now)})
    rows.sort(key=lambda t: (t["next_due"] is None, _instant(t["next_due"]), t["id"]))
    # a ticket both of my section and commanded by me is counted once in `rows` but may be
    # in both totals: the larger total is the closest honest figure without another ask
    total = max([a.get("total", len(a["tickets"])) for a in answers] + [len(found)])
    return {"rows": rows[:limit], "total": total}


def _instant(when: str | None) -> datetime:
    return datetime.fromisoformat(when) if when else datetime.max.replace(tzinfo=UTC)


def my_tasks(api: Api, me: dict[str, str], now: datetime) -> dict[str, Any]:
    """Tasks assigned to me (or to my section) not done yet, the earliest due first: `rows`
    (at most HOME_TASKS) and `total`."""
    answer = api.get("liaison", "/tasks", assignee=me["name"], section=me.get("section") or None,
                     status=",".join(OPEN_TASKS), limit=HOME_TASKS)
    rows = [{**t, "countdown": present.countdown(t.get("due_at"), now)}
            for t in answer["tasks"]]
    return {"rows": rows, "total": answer.get("total", len(rows))}


def incident_query(level: str) -> dict[str, Any]:
    """Sentiment's query for one level's open incidents on the home page: the newest few."""
    return {"status": ",".join(OPEN_INCIDENTS), "level": level, "evidence": "false",
            "limit": HOME_INCIDENTS}


def open_incidents(answers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Open incidents by level, strongest level first, from sentiment's answer for each level
    (`incident_query`): its count and its newest few."""
    return {level: {"rows": answers[level]["incidents"], "total": answers[level]["total"]}
            for level in LEVELS}
