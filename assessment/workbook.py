"""The Excel workbook: a cover sheet, then one sheet per measure (by section, then by person)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from assessment.measures import Measure, Table
from assessment.period import Period

BOLD = Font(bold=True)


def _table(ws: Worksheet, row: int, heading: str, table: Table) -> int:
    ws.cell(row, 1, heading).font = BOLD
    for col, name in enumerate(table.columns, 1):
        ws.cell(row + 1, col, name).font = BOLD
    for r, values in enumerate(table.rows, row + 2):
        for col, value in enumerate(values, 1):
            ws.cell(r, col, value)
    return row + 2 + len(table.rows) + 1


def write(measures: list[Measure], period: Period, path: Path, notes: list[str]) -> Path:
    wb = Workbook()
    cover = wb.active
    cover.title = "说明"
    cover.append([f"考评报告：{period.label}"])
    cover["A1"].font = BOLD
    cover.append(["统计区间", f"{period.since.isoformat()} 至 {period.until.isoformat()}（不含）"])
    for line in notes:
        cover.append([line])
    for m in measures:
        ws = wb.create_sheet(m.title)
        ws.append([m.note])
        row = _table(ws, 3, "按处室", m.by_section)
        if m.by_person is not None:
            _table(ws, row, "按人员", m.by_person)
        for letter in "ABCDEFGHI":
            ws.column_dimensions[letter].width = 16
    wb.save(path)
    return path
