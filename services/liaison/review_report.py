"""Post-incident review of a ticket: timeline, response times against the plan's deadlines,
the opinion curve before and after the statement (from the snapshots sentiment events carried),
and the lessons. Markdown, with a PNG chart drawn by matplotlib (Agg, no display)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


def _fmt(v: datetime | None) -> str:
    return v.isoformat(timespec="minutes") if v else "—"


def markdown(report: Report, chart_href: str = "review.png") -> str:
    t, f = report.ticket, report.facts
    lines = [f"# 事后复盘：{t.title}", "",
             f"- 工单 `{t.id}`，事件 `{t.incident_id}`，级别 {t.level}，状态 {t.status}",
             f"- 牵头：{t.lead_section}；指挥：{f.commander or '—'}",
             f"- 开单 {_fmt(t.opened_at)}，关闭 {_fmt(f.closed_at)}",
             "", "## 响应时效（对照预案时限）", "",
             "| 环节 | 预案时限 | 实际完成 | 用时（分钟） | 预案（分钟） | 是否达标 |",
             "|---|---|---|---|---|---|"]
    for r in report.response_times():
        used = f"{r['minutes']:.1f}" if r["minutes"] is not None else "—"
        lines.append(f"| {r['label']} | {_fmt(r['due_at'])} | {_fmt(r['done_at'])} | {used} | "
                     f"{r['plan_minutes']:.0f} | {'是' if r['met'] else '否'} |")
    before, after = report.before_after()
    lines += ["", "## 舆情曲线（口径发布前后）", "", f"![负面占比曲线]({chart_href})", ""]
    if before is not None or after is not None:
        pct = lambda x: f"{x:.0%}" if x is not None else "—"  # noqa: E731
        lines.append(f"口径发布于 {_fmt(report.statement_at)}；发布前平均负面占比 {pct(before)}，"
                     f"发布后 {pct(after)}（共 {len(report.curve)} 个数据点）。")
    else:
        lines.append(f"共 {len(report.curve)} 个数据点；"
                     + ("未发布口径。" if report.statement_at is None else ""))
    lines += ["", "## 时间线", ""]
    for e in report.timeline:
        mark = "📌 " if e.pinned else ""
        lines.append(f"- {_fmt(aware(e.at))} `{e.kind}` {mark}{e.text}")
    lines += ["", "## 经验教训", "", f.lessons or "（待填写）", ""]
    return "\n".join(lines)


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
