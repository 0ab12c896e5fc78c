"""A ticket as the console shows it: liaison's answer regrouped for people (the board's
columns, deadlines with countdowns, shares by agency, partner notes), and form values turned
into what liaison's API takes. Pure: no nameko."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.console import present

STATUSES = ("open", "acknowledged", "responding", "monitoring", "resolved", "closed")
DEADLINES = (("acknowledge", "acknowledged_at"), ("first_response", "first_response_at"),
             ("resolve", "resolved_at"))
PARTNER_KINDS = ("partner.ack", "partner.comment")
IN_WORK = ("open", "acknowledged", "responding", "monitoring")


BOARD_CARDS = 30  # cards per board column (the most urgent first; settled: the newest)
LIST_PAGE = 50  # rows per page of one status's list


def ask(status: str, limit: int, offset: int = 0) -> dict[str, Any]:
    """Liaison's query for one status's tickets: in work by the most urgent unmet deadline,
    settled ones newest first."""
    return {"status": status, "order": "due" if status in IN_WORK else "opened",
            "limit": limit, "offset": offset}


def cards(tickets: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The tickets of one status as cards, each in work with its next deadline's countdown."""
    out = []
    for t in tickets:
        due = _next_due(t)
        out.append({**t, "countdown": present.countdown(due, now) if due and
                    t["status"] in IN_WORK else None})
    return out


def board(answers: dict[str, dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """One column per status from liaison's answer for it: its cards and how many in all."""
    return [{"status": status, "tickets": cards(answers[status]["tickets"], now),
             "total": answers[status].get("total", len(answers[status]["tickets"]))}
            for status in STATUSES]


def _next_due(t: dict[str, Any]) -> str | None:
    """The first plan deadline the ticket has not met yet (liaison's `met`)."""
    met, deadlines = t.get("met") or {}, t.get("deadlines") or {}
    return next((deadlines[k] for k, _ in DEADLINES if not met.get(k) and deadlines.get(k)),
                None)


def detail(ticket: dict[str, Any], now: datetime) -> dict[str, Any]:
    facts = ticket.get("facts") or {}
    deadlines = [{"key": key, "due": (ticket.get("deadlines") or {}).get(key),
                  "met_at": facts.get(met),
                  "countdown": present.countdown((ticket.get("deadlines") or {}).get(key), now,
                                                 met=bool(facts.get(met)))}
                 for key, met in DEADLINES]
    timeline = sorted(ticket.get("timeline") or [], key=lambda e: (e.get("at") or "", e["id"]))
    pinned = [e for e in timeline if e.get("pinned")]
    shares: dict[str, list[dict[str, Any]]] = {a: [] for a in ticket.get("agencies") or []}
    for s in ticket.get("shares") or []:
        shares.setdefault(s["agency"], []).append(s)
    notes: dict[str, list[dict[str, Any]]] = {a: [] for a in shares}
    for e in timeline:
        author = e.get("author") or ""
        if e.get("kind") in PARTNER_KINDS and author.startswith("partner:"):
            notes.setdefault(author.split(":", 1)[1], []).append(e)
    tasks = [{**t, "countdown": present.countdown(t.get("due_at"), now,
                                                  met=t.get("status") in ("done", "cancelled"))}
             for t in ticket.get("tasks") or []]
    return {"ticket": ticket, "deadlines": deadlines, "timeline": list(reversed(timeline)),
            "pinned": pinned, "shares": shares, "notes": notes, "tasks": tasks,
            "people": [p for p in ticket.get("participants") or [] if p.get("kind") == "person"],
            "meetings": ticket.get("meetings") or [],
            "next_statuses": ticket.get("next_statuses") or []}


def office_to_iso(value: str, tz: str) -> str:
    """A `datetime-local` form value (office time, `2026-11-29T15:30`) as an aware ISO time;
    what it was if it does not parse (the API then refuses it with its reason)."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when.isoformat()


def decisions(text: str, tz: str) -> list[dict[str, str]]:
    """Minutes' decisions, one a line: `任务 | 负责人 | 2026-11-30 18:00` → tasks for liaison.
    A line without three parts is kept whole as the title with no owner (the API refuses it,
    with its reason, rather than the console guessing)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if len(parts) == 3:
            out.append({"title": parts[0], "owner": parts[1],
                        "due_at": office_to_iso(parts[2].replace(" ", "T", 1), tz)})
        else:
            out.append({"title": line.strip(), "owner": "", "due_at": ""})
    return out
