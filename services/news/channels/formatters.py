"""Formatters: how an item looks on each channel. HTML through Jinja2 with autoescape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from services.news.channels.base import Rendition

KIND_LABELS = {"article": "新闻", "video": "视频", "notice": "通知公告", "statement": "情况说明",
               "journal_issue": "刊物"}
ACTION_LABELS = {"publish": "", "correct": "更正", "retract": "撤回", "expire": "已过期归档"}
WEIBO_LIMIT = 2000

_env = Environment(loader=PackageLoader("services.news.channels", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def page_name(item_id: str) -> str:
    return f"{item_id}.html"


def paragraphs(body: str) -> list[str]:
    return [b.strip() for b in body.replace("\r\n", "\n").split("\n\n") if b.strip()]


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value or "")[:10]


def _document(item: dict[str, Any], action: str) -> dict[str, Any]:
    """The channel-neutral facts every rendition carries."""
    return {"item_id": item["id"], "action": action, "revision": item["revision"],
            "kind": item["kind"], "column": item.get("column"), "title": item["title"],
            "reference_no": item.get("reference_no"),
            "published_at": _day(item.get("published_at")),
            "notes": [{"kind": n["kind"], "note": n["note"], "at": _day(n["at"])}
                      for n in item.get("notes", [])]}


class WebsiteFormatter:
    """A page per item and the index of everything live. A retracted or expired item keeps a
    page that says so (and leaves the index); nothing on the site is deleted."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def format(self, item: dict[str, Any], action: str, context: dict[str, Any]) -> Rendition:
        live = [i for i in context.get("live", []) if i["id"] != item["id"]]
        if action in ("publish", "correct"):
            live = [item, *live]
        page = _env.get_template("page.html").render(
            item=item, action=action, action_label=ACTION_LABELS[action],
            kind_label=KIND_LABELS.get(item["kind"], item["kind"]),
            published=_day(item.get("published_at")), paragraphs=paragraphs(item["body"]),
            notes=_document(item, action)["notes"], page_name=page_name)
        index = _env.get_template("index.html").render(items=live, page_name=page_name)
        name = page_name(item["id"])
        return Rendition(self.channel, item["id"], action, _document(item, action),
                         files={name: page, "index.html": index}, primary=name)


class JournalFormatter:
    """The journal's manuscript (plain text, column heading first) for the editorial office."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def format(self, item: dict[str, Any], action: str, context: dict[str, Any]) -> Rendition:
        doc = _document(item, action)
        head = f"【{item.get('column') or '刊物'}】{item['title']}"
        if action != "publish":
            head += f"（{ACTION_LABELS[action]}）"
        notes = [f"{n['kind']}：{n['note']}" for n in doc["notes"]]
        text = "\n\n".join([head, *paragraphs(item["body"]), *notes]) + "\n"
        name = f"{item['id']}.txt"
        return Rendition(self.channel, item["id"], action, doc, files={name: text}, primary=name)


class WechatFormatter:
    """A WeChat official-account article: title, digest, HTML content (for a gateway)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def format(self, item: dict[str, Any], action: str, context: dict[str, Any]) -> Rendition:
        doc = _document(item, action)
        blocks = paragraphs(item["body"])
        doc["article"] = {
            "title": item["title"][:64], "author": "市人大常委会办公室",
            "digest": (blocks[0] if blocks else "")[:120],
            "content": _env.get_template("wechat.html").render(
                paragraphs=blocks, notes=doc["notes"], action_label=ACTION_LABELS[action]),
            "content_source_url": context.get("website_url") or "",
        }
        return Rendition(self.channel, item["id"], action, doc)


class WeiboFormatter:
    """A Weibo post: 【title】 and the opening, cut to the limit, with the website link."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def format(self, item: dict[str, Any], action: str, context: dict[str, Any]) -> Rendition:
        doc = _document(item, action)
        label = ACTION_LABELS[action]
        link = context.get("website_url") or ""
        head = f"【{label + '：' if label else ''}{item['title']}】"
        room = WEIBO_LIMIT - len(head) - len(link) - 2
        text = " ".join(paragraphs(item["body"]))
        if doc["notes"]:
            text = doc["notes"][-1]["note"] + " " + text
        if len(text) > room:
            text = text[: max(room - 1, 0)] + "…"
        doc["status"] = f"{head}{text} {link}".strip()
        return Rendition(self.channel, item["id"], action, doc)


class JsonFormatter:
    """The item as JSON for any subscriber (the full text when it is live)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def format(self, item: dict[str, Any], action: str, context: dict[str, Any]) -> Rendition:
        doc = _document(item, action)
        if action in ("publish", "correct"):
            doc["body"] = item["body"]
        doc["url"] = context.get("website_url")
        return Rendition(self.channel, item["id"], action, doc)


FORMATTERS = {"website": WebsiteFormatter, "journal": JournalFormatter,
              "wechat": WechatFormatter, "weibo": WeiboFormatter, "json": JsonFormatter}
