"""What the 审核 pages show, shaped from the review and news APIs' answers (pure; no nameko).

The review service decides who may decide what; this module only arranges its answers for
reading: cases at my stage first, the revision under review against the previous one, the
pre-check findings marked in the text, the audit trail in words, and a refusal's reason in
Chinese."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from markupsafe import Markup

from services.console import messages, present, textmarks

STAGES = ("section_head", "leader_in_charge", "principal")
CHECKLIST = ("accuracy", "orientation", "format")
DECISIONS = ("approve", "return", "reject")


def my_stage(role: str | None) -> str | None:
    """The review stage a role decides (the stage's name is the role's)."""
    return role if role in STAGES else None


TABS = ("mine", "open", "done")
PAGE = 50  # cases a page of the queue
DONE = ("approved", "returned", "rejected")


def tab_query(show: str, stage: str | None) -> dict[str, str]:
    """Review's query for a tab of the queue (its page aside)."""
    if show == "done":
        return {"status": ",".join(DONE), "order": "updated"}
    return {"status": "open", "order": "due"} | ({"stage": stage} if show == "mine" and stage
                                                 else {})


def queue(cases: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Open cases, the most urgent first (deadline, then the longest waiting), each with its
    deadline countdown."""
    rows = [{**c, "countdown": present.countdown(c.get("stage_due_at"), now),
             "overdue": bool(c.get("overdue_at")) or _past(c.get("stage_due_at"), now)}
            for c in cases]
    return sorted(rows, key=lambda c: (c.get("stage_due_at") is None,
                                       c.get("stage_due_at") or "",
                                       c.get("stage_entered_at") or c.get("created_at") or ""))


def _past(due: str | None, now: datetime) -> bool:
    when = present.parse(due)
    return when is not None and when < now


def previous_revision(item: dict[str, Any] | None, revision: int) -> dict[str, Any] | None:
    """The item's revision before `revision` (what the reviewer compares against)."""
    if not item:
        return None
    earlier = [r for r in item.get("revisions", []) if r.get("number", 0) < revision]
    return earlier[-1] if earlier else None


def text_view(case: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Title and body with findings highlighted, and the changes against `previous`."""
    findings = case.get("findings") or []
    view: dict[str, Any] = {
        "title": textmarks.highlight(case["title"], findings),
        "body": textmarks.highlight(case["body"], findings),
        "previous": previous["number"] if previous else None,
        "title_diff": None, "body_diff": None, "changed": False}
    if previous:
        view["title_diff"] = textmarks.diff_markup(previous["title"], case["title"])
        view["body_diff"] = textmarks.diff_markup(previous["body"], case["body"])
        view["changed"] = (previous["title"], previous["body"]) != (case["title"], case["body"])
    return view


def finding_rows(findings: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Each finding in Chinese: rule, severity, what was found (and the term's note)."""
    rows = []
    for f in findings:
        needle = textmarks.finding_needle(f)
        note = ""
        if f.get("rule") == "lexicon":
            found = re.search(r"」\s*\((.+)\)\s*$", str(f.get("message") or ""))
            note = found.group(1) if found else ""
        rows.append({"rule": messages.FINDING_RULE.get(f.get("rule", ""), f.get("rule", "")),
                     "severity": f.get("severity", "warning"),
                     "severity_label": messages.FINDING_SEVERITY.get(f.get("severity", ""), ""),
                     "needle": needle, "note": note})
    return rows


def audit_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit trail in words: who did what at which stage, and what the detail says."""
    return [{"at": e.get("at"), "actor": messages.ACTOR.get(e.get("actor", ""), e.get("actor")),
             "action": messages.AUDIT_ACTION.get(e.get("action", ""), e.get("action", "")),
             "stage": messages.STAGE.get(e.get("stage") or "", e.get("stage") or ""),
             "revision": e.get("revision"), "comment": e.get("comment") or "",
             "detail": audit_detail(e.get("action", ""), e.get("detail") or {})}
            for e in entries]


def audit_detail(action: str, detail: dict[str, Any]) -> str:
    if action == "prechecked":
        return messages.AUDIT_PRECHECKED.format(blocking=detail.get("blocking", 0),
                                                warning=detail.get("warning", 0))
    if action in ("approve", "return", "reject") and isinstance(detail.get("checklist"), dict):
        ticked = [messages.CHECKLIST[k] for k in CHECKLIST if detail["checklist"].get(k)]
        return messages.AUDIT_CHECKED.format(items="、".join(ticked) or "无")
    if action == "overdue":
        names = "、".join(detail.get("escalated_to") or []) or "无"
        return messages.AUDIT_ESCALATED.format(names=names)
    if action == "approval_carried":
        return messages.AUDIT_CARRIED.format(revision=detail.get("from_revision", ""))
    if action == "submitted" and detail.get("resumed_from"):
        return messages.AUDIT_RESUMED
    return ""


def decision_body(form: Any) -> dict[str, Any]:
    """The API's decision body from the case page's form."""
    decision = form.get("decision", "")
    return {"decision": decision, "comment": (form.get("comment") or "").strip(),
            "checklist": {k: form.get(k) in ("on", "true", "1") for k in CHECKLIST}}


REFUSALS = (
    (re.compile(r"^stage (\w+) needs the role (\w+), not (\w+)$"), "out_of_turn"),
    (re.compile(r"author of an item never reviews"), "own_item"),
    (re.compile(r"wrote a revision of an item never reviews"), "co_author"),
    (re.compile(r"one person never approves two stages"), "two_stages"),
    (re.compile(r"needs a comment"), "needs_comment"),
    (re.compile(r"every checklist item"), "checklist"),
    (re.compile(r"^the case is (\w+)$"), "closed"),
    (re.compile(r"decided by someone else"), "raced"),
    (re.compile(r"blocking"), "blocked"),
)


def refusal(status: int, reason: str) -> str:
    """The review service's refusal of a decision, in Chinese."""
    for pattern, key in REFUSALS:
        found = pattern.search(reason or "")
        if found is None:
            continue
        if key == "out_of_turn":
            stage, role, mine = found.groups()
            return messages.REVIEW_REFUSED[key].format(
                stage=messages.STAGE.get(stage, stage), role=messages.ROLE.get(role, role),
                mine=messages.ROLE.get(mine, mine))
        if key == "closed":
            return messages.REVIEW_REFUSED[key].format(
                status=messages.CLOSED_AS.get(found.group(1), found.group(1)))
        return messages.REVIEW_REFUSED[key]
    if status == 422:
        return messages.REVIEW_REFUSED["blocked"]
    return messages.api_error(status)


def channel_views(preview: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each channel's rendition as the page shows it: website and WeChat HTML in a sandboxed
    frame, Weibo and the journal as text, a webhook's document as labelled fields."""
    if not preview:
        return []
    out = []
    for c in preview.get("channels", []):
        doc = c.get("document") or {}
        view = {"channel": c["channel"], "label": messages.CHANNEL.get(c["channel"], c["channel"]),
                "enabled": c.get("enabled", True), "formatter": c.get("formatter"),
                "frame": False, "title": None, "digest": None, "text": None, "fields": []}
        if c.get("formatter") == "website":
            view["frame"] = True
        elif c.get("formatter") == "wechat":
            article = doc.get("article") or {}
            view.update(frame=True, title=article.get("title", ""),
                        digest=article.get("digest", ""))
        elif c.get("formatter") == "weibo":
            view["text"] = doc.get("status", "")
        elif c.get("formatter") == "journal":
            view["text"] = c.get("primary") or ""
        else:
            view["fields"] = [(messages.DOCUMENT_FIELD.get(k, k), _plain(v))
                              for k, v in doc.items() if k in messages.DOCUMENT_FIELD]
        out.append(view)
    return out


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "；".join(_plain(v) for v in value) or "无"
    if isinstance(value, dict):
        return "，".join(f"{k}：{_plain(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def frame_html(preview: dict[str, Any], channel: str) -> Markup | str | None:
    """The HTML a sandboxed frame shows for a channel (website page, WeChat article body)."""
    for c in preview.get("channels", []):
        if c["channel"] != channel:
            continue
        if c.get("formatter") == "website":
            return c.get("primary") or ""
        if c.get("formatter") == "wechat":
            return ((c.get("document") or {}).get("article") or {}).get("content", "")
    return None
