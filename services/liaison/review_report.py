"""Post-incident review of a ticket: timeline, response times against the plan's deadlines,
the opinion curve before and after the statement (from the snapshots sentiment events carried),
and the lessons. Markdown, with a PNG chart drawn by matplotlib (Agg, no display)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from sqlalchemy.orm import Session

from civicpulse.serialize import aware
from services.liaison import db, domain
from services.liaison.messages import DEADLINE_NAMES


@dataclass(frozen=True)
class Report:
    ticket: domain.Ticket
    facts: domain.Facts
    timeline: list[domain.TimelineEntry]
    curve: list[tuple[datetime, float]]
    statement_at: datetime | None

    def response_times(self) -> list[dict[str, Any]]:
        opened = self.ticket.opened_at
        rows = []
        for key, fact in domain.DEADLINE_FACTS.items():
            label = DEADLINE_NAMES[key]
            due = self.ticket.due[key]
            done = aware(getattr(self.facts, fact))
            rows.append({"deadline": key, "label": label, "due_at": due, "done_at": done,
                         "minutes": (done - opened).total_seconds() / 60 if done else None,
                         "plan_minutes": (due - opened).total_seconds() / 60,
                         "met": done is not None and done <= due})
        return rows

    def before_after(self) -> tuple[float | None, float | None]:
        if self.statement_at is None:
            return (None, None)
        before = [r for t, r in self.curve if t <= self.statement_at]
        after = [r for t, r in self.curve if t > self.statement_at]
        mean = lambda xs: sum(xs) / len(xs) if xs else None  # noqa: E731
        return mean(before), mean(after)


def load(session: Session, ticket_id: str) -> Report | None:
    r = db.repositories(session)
    t = r.tickets.get(ticket_id)
    if t is None:
        return None
    timeline = r.timeline.entries(ticket_id)
    curve = [(s.at, float(s.negative_ratio)) for s in r.tickets.snapshots(ticket_id)
             if s.negative_ratio is not None]
    published = [e for e in timeline if e.kind == "statement.published"]
    facts = r.tickets.facts(ticket_id)
    statement_at = aware(published[0].at) if published else facts.first_response_at
    return Report(t, facts, timeline, sorted(curve), statement_at)


def _minute(v: datetime | None) -> str:
    return aware(v).isoformat(timespec="minutes") if v else "—"


def _pct(x: float | None) -> str:
    return f"{x:.0%}" if x is not None else "—"


@cache
def _template() -> Template:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=False, trim_blocks=True, lstrip_blocks=True,  # noqa: S701 - Markdown
                      keep_trailing_newline=True, undefined=StrictUndefined)
    env.filters.update(minute=_minute, pct=_pct)
    return env.get_template("review.md.j2")


def markdown(report: Report, chart_href: str = "review.png") -> str:
    """The review as Markdown (templates/review.md.j2)."""
    before, after = report.before_after()
    return _template().render(
        t=report.ticket, f=report.facts, rows=report.response_times(), before=before,
        after=after, statement_at=report.statement_at, points=len(report.curve),
        timeline=report.timeline, chart_href=chart_href)


def chart_png(report: Report) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.2), dpi=100)
    ax = fig.add_subplot()
    if report.curve:
        xs, ys = zip(*report.curve, strict=True)
        ax.plot(xs, [y * 100 for y in ys], marker="o", label="negative share (%)")
    if report.statement_at is not None:
        ax.axvline(report.statement_at, color="tab:red", linestyle="--", label="statement")
    ax.set_title(f"{report.ticket.id} · level {report.ticket.level}")
    ax.set_ylabel("negative %")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper right")
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def build(uow: Any, ticket_id: str) -> Report | None:
    with uow:
        return load(uow.session, ticket_id)
