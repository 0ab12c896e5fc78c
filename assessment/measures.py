"""The measures of the assessment, pure: the services' raw records of a period in, one table by
section (处室) and one by person per measure out. No I/O.

Who is in which section comes from the identity service's staff records (`staff[].section`); a
person they do not know, or without a section, is counted under 未登记处室.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean
from typing import Any

from assessment.period import OFFICE_TZ, Period
from assessment.sources import Records
from civicpulse.contracts.review import STAGE_NAMES

UNKNOWN_SECTION = "未登记处室"
UNREPLIED = "（未回复）"


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Measure:
    key: str
    title: str
    note: str
    by_section: Table
    by_person: Table | None
    chart: tuple[tuple[str, ...], str]  # (label columns, value column) of by_section

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "note": self.note,
                "by_section": self.by_section.as_dicts(),
                "by_person": self.by_person.as_dicts() if self.by_person else None}


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def avg(values: list[float]) -> float | None:
    return round(mean(values), 2) if values else None


def peak(values: list[float]) -> float | None:
    return round(max(values), 2) if values else None


def sections_of(records: Records) -> Callable[[str | None], str]:
    """name → section, from identity's staff records (review's, from before identity)."""
    staff = records.get("identity", {}).get("staff") or records["review"].get("staff", [])
    known = {s["name"]: s.get("section") for s in staff}

    def section(name: str | None) -> str:
        return (known.get(name) if name else None) or UNKNOWN_SECTION

    return section


def grouped(items: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))


# --- 1. review: turnaround by stage, returns and rejections ----------------------------------

def review_steps(records: Records, period: Period) -> list[dict[str, Any]]:
    """Each stage decision taken in the period, with how long the stage waited for it (from the
    case's submission or the previous decision of the case) and whether it went overdue."""
    review = records["review"]
    created = {c["id"]: when(c["created_at"]) for c in review["cases"]}
    overdue = {(e["case_id"], e["stage"]) for e in review["escalations"]}
    last: dict[str, datetime] = {}
    steps = []
    for d in review["decisions"]:  # in the order they were taken
        at = when(d["at"])
        entered = last.get(d["case_id"], created[d["case_id"]])
        last[d["case_id"]] = at
        if d.get("carried_from") or not period.since <= at < period.until:
            continue
        steps.append({**d, "hours": hours(entered, at),
                      "overdue": (d["case_id"], d["stage"]) in overdue})
    return steps


def _review_row(steps: list[dict[str, Any]]) -> tuple[Any, ...]:
    taken = [s["hours"] for s in steps]
    count = {k: sum(s["decision"] == k for s in steps) for k in ("approve", "return", "reject")}
    return (len(steps), count["approve"], count["return"], count["reject"], avg(taken),
            peak(taken), sum(s["overdue"] for s in steps))


REVIEW_FIGURES = ("审核次数", "通过", "退回", "不予通过", "平均用时(小时)", "最长用时(小时)",
                  "超时次数")


def review_turnaround(records: Records, period: Period) -> Measure:
    section = sections_of(records)
    steps = review_steps(records, period)
    by_section = Table(("处室", "审核环节", *REVIEW_FIGURES), [
        (sec, STAGE_NAMES.get(stage, stage), *_review_row(rows))
        for (sec, stage), rows in grouped(steps, lambda s: (section(s["reviewer"]),
                                                            s["stage"])).items()])
    by_person = Table(("人员", "处室", "审核环节", *REVIEW_FIGURES), [
        (who, section(who), STAGE_NAMES.get(stage, stage), *_review_row(rows))
        for (who, stage), rows in grouped(steps, lambda s: (s["reviewer"],
                                                            s["stage"])).items()])
    return Measure("review", "审核时效", "本期作出的每一环节审核决定：用时自送审（或上一环节决定）"
                   "起算至本环节决定；超时指该环节曾触发逾期提醒。", by_section, by_person,
                   (("处室", "审核环节"), "平均用时(小时)"))


def _outcome_row(cases: list[dict[str, Any]]) -> tuple[Any, ...]:
    count = {k: sum(c["status"] == k for c in cases)
             for k in ("approved", "returned", "rejected", "open")}
    return (len(cases), count["approved"], count["returned"], count["rejected"], count["open"],
            rate(count["returned"] + count["rejected"], len(cases)))


OUTCOME_FIGURES = ("送审", "通过", "退回", "不予通过", "审核中", "退回与否决率")


def review_outcomes(records: Records, period: Period) -> Measure:
    section = sections_of(records)
    cases = [c for c in records["review"]["cases"]
             if period.since <= when(c["created_at"]) < period.until]
    return Measure(
        "submissions", "送审退回与否决",
        "本期送审的稿件（每次送审一个审核案）按作者统计其结果：通过、退回修改、不予通过或仍在审核中。",
        Table(("处室", *OUTCOME_FIGURES), [
            (sec, *_outcome_row(rows))
            for sec, rows in grouped(cases, lambda c: section(c["author"])).items()]),
        Table(("作者", "处室", *OUTCOME_FIGURES), [
            (who, section(who), *_outcome_row(rows))
            for who, rows in grouped(cases, lambda c: c["author"]).items()]),
        (("处室",), "退回与否决率"))


# --- 2. tickets: acknowledged and resolved within the plan's deadlines -----------------------

def _met(ticket: dict[str, Any], fact: str, due: str) -> bool:
    at = when(ticket.get(fact))
    return at is not None and at <= when(ticket[due])


def _ticket_counts(tickets: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    return (sum(t["acknowledged_at"] is not None for t in tickets),
            sum(_met(t, "acknowledged_at", "acknowledge_due_at") for t in tickets),
            sum(t["resolved_at"] is not None for t in tickets),
            sum(_met(t, "resolved_at", "resolve_due_at") for t in tickets))


def ticket_deadlines(records: Records, period: Period) -> Measure:
    section = sections_of(records)
    tickets = records["liaison"]["tickets"]
    section_rows = []
    for sec, rows in grouped(tickets, lambda t: t["lead_section"]).items():
        acked, acked_on_time, resolved, resolved_on_time = _ticket_counts(rows)
        section_rows.append((sec, len(rows), acked, acked_on_time, resolved, resolved_on_time,
                             rate(acked_on_time, len(rows)), rate(resolved_on_time, len(rows))))
    people = sorted({t[k] for t in tickets for k in ("acknowledged_by", "resolved_by")
                     if t.get(k)})
    person_rows = []
    for who in people:
        acked = [t for t in tickets if t.get("acknowledged_by") == who]
        resolved = [t for t in tickets if t.get("resolved_by") == who]
        person_rows.append((who, section(who), len(acked),
                            sum(_met(t, "acknowledged_at", "acknowledge_due_at") for t in acked),
                            len(resolved),
                            sum(_met(t, "resolved_at", "resolve_due_at") for t in resolved)))
    return Measure(
        "tickets", "工单处置时限",
        "本期开立的联合处置工单：签收、办结是否在预案规定时限内（未签收、未办结均计为未按时）。",
        Table(("牵头处室", "工单数", "已签收", "按时签收", "已办结", "按时办结", "按时签收率",
               "按时办结率"), section_rows),
        Table(("人员", "处室", "签收数", "按时签收", "办结数", "按时办结"), person_rows),
        (("牵头处室",), "按时签收率"))


# --- 3. statements: from request to publication ----------------------------------------------

def statement_times(records: Records, period: Period) -> Measure:
    asked = [t for t in records["liaison"]["tickets"] if t.get("statement_requested_at")]
    rows = []
    for sec, group in grouped(asked, lambda t: t["lead_section"]).items():
        out = [t for t in group if t.get("statement_published_at")]
        taken = [hours(when(t["statement_requested_at"]), when(t["statement_published_at"]))
                 for t in out]
        on_time = sum(_met(t, "statement_published_at", "first_response_due_at") for t in out)
        rows.append((sec, len(group), len(out), on_time, avg(taken), peak(taken)))
    return Measure(
        "statements", "回应口径发布用时",
        "本期开立工单所请求的回应口径：自请求起草至首次发布的用时；按时指在预案首次回应时限内"
        "发布。口径由联络台统一起草，按工单牵头处室统计，不列个人。",
        Table(("牵头处室", "口径请求", "已发布", "按时发布", "平均用时(小时)", "最长用时(小时)"),
              rows), None, (("牵头处室",), "平均用时(小时)"))


# --- 4. the publicity plan: entries done on time ---------------------------------------------

def _done_on_time(entry: dict[str, Any]) -> bool:
    at = when(entry.get("published_at"))
    return at is not None and at.astimezone(OFFICE_TZ).date().isoformat() <= entry["due_on"]


def _plan_row(entries: list[dict[str, Any]]) -> tuple[Any, ...]:
    done = sum(e.get("published_at") is not None for e in entries)
    on_time = sum(_done_on_time(e) for e in entries)
    return len(entries), done, on_time, rate(on_time, len(entries))


def plan_entries(records: Records, period: Period) -> Measure:
    section = sections_of(records)
    entries = records["news"]["plan_entries"]
    return Measure(
        "plan", "宣传计划完成",
        "本期到期的宣传计划条目：关联稿件在到期日（含）之前发布为按时完成。",
        Table(("处室", "计划条目", "已完成", "按时完成", "按时完成率"),
              [(sec, *_plan_row(rows)) for sec, rows in
               grouped(entries, lambda e: section(e.get("owner"))).items()]),
        Table(("责任人", "处室", "计划条目", "已完成", "按时完成", "按时完成率"),
              [(who, section(who), *_plan_row(rows)) for who, rows in
               grouped(entries, lambda e: e.get("owner") or "（未指定）").items()]),
        (("处室",), "按时完成率"))


# --- 5. public comments: replies within the deadline -----------------------------------------

def _reply_row(comments: list[dict[str, Any]]) -> tuple[Any, ...]:
    replied = [c for c in comments if c.get("replied_at")]
    on_time = sum(_met(c, "replied_at", "reply_due_at") for c in replied)
    taken = [hours(when(c["received_at"]), when(c["replied_at"])) for c in replied]
    return len(comments), len(replied), on_time, avg(taken)


def comment_replies(records: Records, period: Period) -> Measure:
    section = sections_of(records)
    comments = records["news"]["comments"]
    return Measure(
        "comments", "评论回复时限",
        f"本期收到的公众评论：在回复时限内回复为按时；未回复的评论列在“{UNREPLIED}”。",
        Table(("处室", "评论数", "已回复", "按时回复", "平均回复用时(小时)"),
              [(sec, *_reply_row(rows)) for sec, rows in grouped(
                  comments, lambda c: section(c["replied_by"]) if c.get("replied_by")
                  else UNREPLIED).items()]),
        Table(("人员", "处室", "评论数", "已回复", "按时回复", "平均回复用时(小时)"),
              [(who, section(who), *_reply_row(rows)) for who, rows in grouped(
                  [c for c in comments if c.get("replied_by")],
                  lambda c: c["replied_by"]).items()]),
        (("处室",), "按时回复"))


# --- 6. notifications: acknowledged (read in the inbox) and delivered (e-mail) ----------------

def _notice_row(notes: list[dict[str, Any]]) -> tuple[Any, ...]:
    inbox = [n for n in notes if n["channel"] == "inbox"]
    read = [n for n in inbox if n.get("read_at")]
    mails = [n for n in notes if n["channel"] == "email"]
    delivered = sum(n["status"] == "sent" for n in mails)
    taken = [hours(when(n["created_at"]), when(n["read_at"])) for n in read]
    return (len(inbox), len(read), rate(len(read), len(inbox)), avg(taken), len(mails),
            delivered, rate(delivered, len(mails)))


NOTICE_FIGURES = ("站内通知", "已读", "已读率", "平均确认用时(小时)", "邮件", "已送达", "送达率")


def notifications_acknowledged(records: Records, period: Period) -> Measure:
    section = sections_of(records)
    notes = records["notify"]["notifications"]
    return Measure(
        "notifications", "通知确认",
        "本期发给各人的通知：站内通知被本人标记已读为已确认（读取时间不限于本期），确认用时自通知"
        "生成起算；邮件以邮件服务器接收为已送达（无邮箱、被拒收或重试用尽为未送达）。",
        Table(("处室", *NOTICE_FIGURES), [
            (sec, *_notice_row(rows))
            for sec, rows in grouped(notes, lambda n: section(n["person"])).items()]),
        Table(("人员", "处室", *NOTICE_FIGURES), [
            (who, section(who), *_notice_row(rows))
            for who, rows in grouped(notes, lambda n: n["person"]).items()]),
        (("处室",), "已读率"))


MEASURES = (review_turnaround, review_outcomes, ticket_deadlines, statement_times, plan_entries,
            comment_replies, notifications_acknowledged)


def assess(records: Records, period: Period) -> list[Measure]:
    return [measure(records, period) for measure in MEASURES]
