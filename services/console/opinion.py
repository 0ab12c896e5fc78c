"""What the 舆情 pages show, shaped from the sentiment API's answers (pure; no nameko): the
sentiment curve as an inline SVG chart, safe links to the evidence, the level history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.console import present

OPEN = ("detected", "escalated", "subsiding")
LEVELS = ("I", "II", "III", "IV")
PAGE = 50  # incidents listed per page (newest first)
SHOWS = {"open": ",".join(OPEN), "closed": "closed", "all": None}  # the list's tabs: statuses
DOTS_UP_TO = 30  # points are marked when there are this few (one point draws no line)


@dataclass(frozen=True)
class Chart:
    """An SVG line chart: one polyline per series, x ticks and the y maximum."""

    width: int
    height: int
    lines: list[dict[str, str]]
    ticks: list[dict[str, Any]]
    y_max: int
    empty: bool


def chart(points: list[dict[str, Any]], series: tuple[tuple[str, str, str], ...],
          time_key: str, tz: str, width: int = 640, height: int = 200,
          fmt: str = "%H:%M") -> Chart:
    """`series`: (key, Chinese label, colour). Points are spread evenly along x; y scales to
    the largest value of any series."""
    pad_l, pad_r, pad_t, pad_b = 36, 24, 10, 24
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    y_max = max([int(p.get(k) or 0) for p in points for k, _, _ in series] + [1])
    n = len(points)

    def x(i: int) -> float:
        return pad_l + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y(v: float) -> float:
        return pad_t + inner_h - inner_h * v / y_max

    lines = [{"label": label, "colour": colour, "points": " ".join(
        f"{x(i):.1f},{y(float(p.get(key) or 0)):.1f}" for i, p in enumerate(points)),
        "dots": [(round(x(i), 1), round(y(float(p.get(key) or 0)), 1)) for i, p in
                 enumerate(points)] if n <= DOTS_UP_TO else []}
        for key, label, colour in series]
    step = max(1, n // 6)
    ticks = [{"x": round(x(i), 1), "label": present.local_time(p.get(time_key), tz, fmt)}
             for i, p in enumerate(points) if i % step == 0]
    return Chart(width, height, lines, ticks, y_max, n == 0)


def series_points(report: dict[str, Any]) -> list[dict[str, Any]]:
    """A digest's series (lists by slot) as points with their slot's start time."""
    from datetime import timedelta

    start = present.parse(report.get("start"))
    step = timedelta(hours=1) if report.get("step") == "hour" else timedelta(days=1)
    vol = report.get("series", {}).get("volume", [])
    neg = report.get("series", {}).get("negative", [])
    return [{"at": (start + step * i).isoformat() if start else "", "volume": v,
             "negative": neg[i] if i < len(neg) else 0} for i, v in enumerate(vol)]


def safe_url(url: str | None) -> str | None:
    """A link only to http(s) pages (evidence URLs come from the outside world)."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def evidence_rows(incident: dict[str, Any]) -> list[dict[str, Any]]:
    tops = ((incident.get("evidence") or {}).get("top_mentions")) or []
    return [{**m, "url": safe_url(m.get("url"))} for m in tops]


def by_level(counts: dict[str, int]) -> dict[str, int]:
    """Every level, strongest first, with its count (sentiment's `by_level` leaves out zeros)."""
    return {lv: int(counts.get(lv, 0)) for lv in LEVELS}


def today_in(tz: str, now: datetime) -> str:
    return now.astimezone(ZoneInfo(tz)).date().isoformat()
