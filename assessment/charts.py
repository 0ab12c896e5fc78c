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


CJK_FILES = ("wqy-microhei", "NotoSansCJK", "NotoSansSC")


def cjk_font() -> str:
    found = _installed_cjk()
    if found is None:  # installed after matplotlib cached its font list: add the files
        for path in font_manager.findSystemFonts():
            if any(part in path for part in CJK_FILES):
                font_manager.fontManager.addfont(path)
        found = _installed_cjk()
    if found is not None:
        return found
    raise NoCjkFont("no CJK font for Chinese chart labels: install fonts-wqy-microhei "
                    "(scripts/install-system-deps.sh) or fonts-noto-cjk")


def _installed_cjk() -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def bar_chart(measure: Measure, path: Path, period_label: str) -> Path | None:
    """The measure's chart column by section; None when the period has no rows to draw."""
    labels, value = measure.chart
    table = measure.by_section
    at = [table.columns.index(c) for c in labels]
    points = [("·".join(str(row[i]) for i in at), row[table.columns.index(value)])
              for row in table.rows if row[table.columns.index(value)] is not None]
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
