"""A digest as JSON, Markdown or a PNG chart (matplotlib, Agg backend)."""

from __future__ import annotations

import io
import json
from typing import Any

FORMATS = ("json", "md", "png")
CONTENT_TYPES = {"json": "application/json; charset=utf-8",
                 "md": "text/markdown; charset=utf-8", "png": "image/png"}
OUTCOMES = {"closed": "已平息 closed", "subsiding": "趋缓 subsiding", "open": "处置中 open"}


def render(report: dict[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2).encode()
    if fmt == "md":
        return markdown(report).encode()
    if fmt == "png":
        return png(report)
    raise ValueError(f"format must be one of {FORMATS}")


def markdown(r: dict[str, Any]) -> str:
    title = "舆情日报 Daily opinion digest" if r["period"] == "daily" else \
        "舆情周报 Weekly opinion digest"
    t = r["totals"]
    ratio = f"{t['negative'] / t['mentions']:.1%}" if t["mentions"] else "n/a"
    lines = [f"# {title}", "", f"Period: {r['start']} – {r['end']}", "",
             f"Mentions: **{t['mentions']}**, negative: **{t['negative']}** ({ratio})", "",
             "## By topic", "", "| topic | volume | negative | neutral | positive | "
             "negative ratio | by reach |", "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {x['topic']} | {x['volume']} | {x['negative']} | {x['neutral']} | "
              f"{x['positive']} | {x['negative_ratio']:.1%} | "
              f"{x['negative_ratio_by_reach']:.1%} |" for x in r["topics"]]
    lines += ["", "## By channel", "", "| channel | volume | negative |", "|---|---:|---:|"]
    lines += [f"| {c['channel']} | {c['volume']} | {c['negative']} |" for c in r["channels"]]
    lines += ["", "## Incidents", ""]
    if not r["incidents"]:
        lines.append("No incident in this period.")
    else:
        lines += ["| incident | topic | peak level | detected | outcome | duration |",
                  "|---|---|---|---|---|---:|"]
        lines += [f"| {i['incident_id']} | {i['topic']} | {i['peak_level']} "
                  f"{i['level_name']} | {i['detected_at'][:16]} | "
                  f"{OUTCOMES[i['outcome']]} | "
                  f"{'' if i['duration_minutes'] is None else str(i['duration_minutes']) + ' min'}"
                  f" |" for i in r["incidents"]]
    return "\n".join(lines) + "\n"


def png(r: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.5), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    vol, neg = r["series"]["volume"], r["series"]["negative"]
    xs = list(range(len(vol)))
    ax.bar(xs, vol, color="#9ecae1", label="mentions")
    ax.bar(xs, neg, color="#de2d26", label="negative")
    ax.set_xlabel("hour (UTC)" if r["step"] == "hour" else "day of week")
    ax.set_ylabel("mentions")
    ax.set_title(f"{r['period']} digest {r['start'][:10]}  "
                 f"({r['totals']['mentions']} mentions, {len(r['incidents'])} incidents)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
