"""Publication channels. The website channel renders static HTML pages into `<var>/site/`."""

from __future__ import annotations

import os
import tempfile
from html import escape
from pathlib import Path
from typing import Any

KIND_LABELS = {"article": "新闻", "video": "视频", "notice": "通知公告", "statement": "情况说明",
               "journal_issue": "刊物"}

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<nav><a href="index.html">首页</a></nav>
<article data-item-id="{item_id}" data-revision="{revision}">
<h1>{title}</h1>
<p class="meta">{kind}{column} · {published} · {reference}</p>
{paragraphs}
</article>
</body>
</html>
"""

INDEX = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>发布信息</title></head>
<body>
<h1>发布信息</h1>
<ul>
{entries}
</ul>
</body>
</html>
"""


def page_name(item_id: str) -> str:
    return f"{item_id}.html"


def _paragraphs(body: str) -> str:
    blocks = [b.strip() for b in body.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "\n".join("<p>" + escape(b).replace("\n", "<br>") + "</p>" for b in blocks)


def render_page(item: dict[str, Any]) -> str:
    column = f" · {item['column']}" if item.get("column") else ""
    published = item.get("published_at")
    return PAGE.format(
        item_id=escape(item["id"]), revision=int(item["current_revision"]),
        title=escape(item["title"]), kind=escape(KIND_LABELS.get(item["kind"], item["kind"])),
        column=escape(column), published=escape(published.date().isoformat() if published else ""),
        reference=escape(item.get("reference_no") or ""), paragraphs=_paragraphs(item["body"]))


def render_index(items: list[dict[str, Any]]) -> str:
    entries = "\n".join(
        f'<li><a href="{escape(page_name(i["id"]))}">{escape(i["title"])}</a></li>'
        for i in items)
    return INDEX.format(entries=entries)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".html")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class WebsiteChannel:
    """Filesystem website: one page per item plus an index of everything published."""

    name = "website"

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def url_for(self, item_id: str) -> str:
        return f"{self.base_url}/{page_name(item_id)}"

    def publish(self, item: dict[str, Any], published: list[dict[str, Any]]) -> str:
        """Write the item's page (overwriting is harmless) and regenerate the index."""
        _write_atomic(self.root / page_name(item["id"]), render_page(item))
        _write_atomic(self.root / "index.html", render_index(published))
        return self.url_for(item["id"])
