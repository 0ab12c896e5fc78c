"""Build the assessment report of a period into a directory: `考评-<period>.md` with one PNG
chart per measure, `考评-<period>.xlsx`, and `assessment-<period>.json` (the same figures,
for the console and for checks)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assessment import charts, markdown, measures, workbook
from assessment.period import Period
from assessment.sources import Records

NOTES = ["处室取自人员账号登记的所属处室（civicpulse users）；未登记者计入“未登记处室”。"]


@dataclass(frozen=True)
class Report:
    markdown: Path
    workbook: Path
    figures: Path
    charts: list[Path]


def build_report(records: Records, period: Period, out: Path) -> Report:
    out.mkdir(parents=True, exist_ok=True)
    found = measures.assess(records, period)
    drawn = {}
    for m in found:
        png = charts.bar_chart(m, out / f"{period.key}-{m.key}.png", period.label)
        if png is not None:
            drawn[m.key] = png
    md = out / f"考评-{period.key}.md"
    md.write_text(markdown.render(found, period, {k: p.name for k, p in drawn.items()}, NOTES),
                  encoding="utf-8")
    xlsx = workbook.write(found, period, out / f"考评-{period.key}.xlsx", NOTES)
    figures = out / f"assessment-{period.key}.json"
    figures.write_text(json.dumps({"period": period.key, "label": period.label,
                                   "since": period.since.isoformat(),
                                   "until": period.until.isoformat(),
                                   "measures": [m.as_dict() for m in found]},
                                  ensure_ascii=False, indent=2), encoding="utf-8")
    return Report(md, xlsx, figures, list(drawn.values()))
