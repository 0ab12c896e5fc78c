"""One PNG bar chart per measure, by section, with Chinese labels.

matplotlib needs a CJK font for them (Debian `fonts-wqy-microhei`, or `fonts-noto-cjk`;
scripts/install-system-deps.sh installs the first): without one the labels would be boxes, so
`cjk_font()` refuses to draw instead.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from assessment.measures import Measure  # noqa: E402

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC")


class NoCjkFont(RuntimeError):
    """No font with Chinese glyphs is installed."""


def cjk_font() -> str:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    raise NoCjkFont("no CJK font for Chinese chart labels: install fonts-wqy-microhei "
                    "(scripts/install-system-deps.sh) or fonts-noto-cjk")


def bar_chart(measure: Measure, path: Path, period_label: str) -> Path | None:
    """The measure's chart column by section; None when the period has no rows to draw."""
    label, value = measure.chart
    table = measure.by_section
    points = [(str(row[table.columns.index(label)]), row[table.columns.index(value)])
              for row in table.rows]
    if len(table.columns) > 2 and table.columns[1] == "审核环节":
        points = [(f"{row[0]}·{row[1]}", row[table.columns.index(value)]) for row in table.rows]
    points = [(name, v) for name, v in points if v is not None]
    if not points:
        return None
    plt.rcParams["font.sans-serif"] = [cjk_font()]
    plt.rcParams["axes.unicode_minus"] = False
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(points) + 2), 4), dpi=100)
    try:
        bars = ax.bar([n for n, _ in points], [v for _, v in points], color="#3b6ea5")
        ax.bar_label(bars, fmt="%g")
        ax.set_title(f"{measure.title}（{period_label}）")
        ax.set_ylabel(value)
        ax.tick_params(axis="x", labelrotation=20)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
