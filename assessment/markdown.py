"""The Markdown report: per measure its rule, its chart and its tables."""

from __future__ import annotations

from typing import Any

from assessment.measures import Measure, Table
from assessment.period import Period


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|")


def table(t: Table) -> list[str]:
    if not t.rows:
        return ["（本期无记录）", ""]
    lines = ["| " + " | ".join(t.columns) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in t.rows]
    return [*lines, ""]


def render(measures: list[Measure], period: Period, charts: dict[str, str],
           notes: list[str]) -> str:
    out = [f"# 考评报告：{period.label}", "",
           f"统计区间：{period.since.isoformat()} 至 {period.until.isoformat()}（不含）。"
           "数据取自各服务自身的业务记录（GET /records），不取自监控指标。", ""]
    out += [f"- {line}" for line in notes]
    for i, m in enumerate(measures, 1):
        out += ["", f"## {i}. {m.title}", "", m.note, ""]
        if m.key in charts:
            out += [f"![{m.title}]({charts[m.key]})", ""]
        out += ["### 按处室", "", *table(m.by_section)]
        if m.by_person is not None:
            out += ["### 按人员", "", *table(m.by_person)]
    return "\n".join(out).rstrip() + "\n"
