"""Every word liaison writes for people: ticket titles, timeline entries, the statement request.

Use cases decide *what* happened and call one function here for *how it reads*; nothing else in
liaison builds Chinese text. Times are written to the minute on the office's clock, lists of
names with 、.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from civicpulse import settings
from civicpulse.contracts.review import STAGE_NAMES

DEADLINE_NAMES = {"acknowledge": "签收", "first_response": "首次公开回应", "resolve": "处置完结"}
NOTIFY_NAMES = {"leader_in_charge": "分管领导", "partner_lead": "协同单位负责人"}
STATUS_NAMES = {"open": "待接收", "acknowledged": "已接收", "responding": "处置中",
                "monitoring": "观察中", "resolved": "已解决", "closed": "已关闭"}
TASK_STATUS_NAMES = {"todo": "待办", "doing": "进行中", "done": "已完成", "cancelled": "已取消"}
TASK_FIELD_NAMES = {"status": "状态", "assignee": "承办"}
NONE = "无"
# the events liaison shares with agencies, as the timeline names them (unknown: the code)
EVENT_NAMES = {"liaison.ticket.opened": "立案通报", "liaison.ticket.acknowledged": "签收通报",
               "liaison.ticket.escalated": "升级通报", "liaison.ticket.overdue": "超时通报",
               "liaison.ticket.resolved": "解决通报", "liaison.ticket.closed": "关闭通报",
               "liaison.statement.requested": "口径请求", "liaison.statement.published": "口径发布",
               "liaison.meeting.scheduled": "联席会议通知"}


def _minute(at: datetime) -> str:
    """The office's own clock, to the minute (`2026-11-29 14:05`): people read these entries
    in the office, and partners in the same city (CIVICPULSE_OFFICE_TZ)."""
    return at.astimezone(ZoneInfo(settings.value("CIVICPULSE_OFFICE_TZ"))).strftime(
        "%Y-%m-%d %H:%M")


def _names(names: Iterable[str], empty: str = NONE) -> str:
    return "、".join(names) or empty


def _status(code: str) -> str:
    return STATUS_NAMES.get(code, code)


def _moved(moved: tuple[str, str] | None) -> str:
    return f"；状态：{_status(moved[0])} → {_status(moved[1])}" if moved else ""


# --- the ticket -----------------------------------------------------------------------------

def ticket_title(topic_name: str, level: str) -> str:
    return f"舆情联合处置：{topic_name}（{level}级）"


def ticket_opened(incident_id: str, level: str, lead_section: str,
                  partners: Sequence[str]) -> str:
    return f"事件 {incident_id}（{level}级）开单，牵头：{lead_section}，协同：{_names(partners)}"


def status_changed(before: str, after: str, by: str, note: str | None) -> str:
    return f"状态：{_status(before)} → {_status(after)}（{by}）" + (f"：{note}" if note else "")


def acknowledged(by: str) -> str:
    return f"{by} 已签收"


def participant_assigned(party: str, role: str, by: str) -> str:
    return f"{party} 担任 {role}（{by}）"


def lessons_updated(by: str) -> str:
    return f"复盘经验已更新（{by}）"


# --- sharing --------------------------------------------------------------------------------

def _event(event_type: str) -> str:
    """The event's name in 「」, or its code and a space (an event without a name here)."""
    return f"「{EVENT_NAMES[event_type]}」" if event_type in EVENT_NAMES else f"{event_type} "


def withheld(event_type: str, tlp: str) -> str:
    return f"{_event(event_type)}TLP:{tlp}，仅限本办，不对外共享"


def shared(event_type: str, agency_name: str, code: str, tlp: str, backfill: bool) -> str:
    return (f"{_event(event_type)}已{'补发' if backfill else '共享'}给 {agency_name}（{code}），"
            f"TLP:{tlp}")


def agency_added(agency_name: str, code: str, by: str, via: str = "") -> str:
    return f"{agency_name}（{code}）加入协同（{by}{via}）"


def via_group(group: str) -> str:
    return f"，共享组 {group}"


VIA_MEETING = "，受邀参加联席会议"


def partner_ack(agency_name: str, text: str) -> str:
    return f"{agency_name} 已确认收到" + (f"：{text}" if text else "")


def partner_comment(agency_name: str, text: str) -> str:
    return f"{agency_name}：{text}"


# --- the incident ---------------------------------------------------------------------------

def level_not_raised(level: str, ticket_level: str) -> str:
    return f"舆情级别 {level} 不高于工单级别 {ticket_level}，未调整"


def escalated(before: str, level: str, lead_section: str, added: Sequence[str],
              reopened: tuple[str, str] | None) -> str:
    text = (f"舆情升级：{before} → {level}，按{level}级预案：牵头 {lead_section}；"
            f"新增协同单位：{_names(added)}")
    if reopened:
        text += f"；工单重新打开（{_status(reopened[0])} → {_status(reopened[1])}）"
    return text


def subsided(negative_ratio: float, moved: tuple[str, str] | None) -> str:
    return f"舆情回落（负面占比 {negative_ratio:.0%}）" + _moved(moved)


# --- the statement --------------------------------------------------------------------------

def statement_brief(topic_name: str, level: str, due_at: datetime) -> str:
    """The office-internal request to the news desk (never published)."""
    return (f"就“{topic_name}”相关网络舆情（{level}级）起草权威回应口径，"
            f"于 {_minute(due_at)} 前提交审核。")


def statement_requested(due_at: datetime, moved: tuple[str, str]) -> str:
    return f"请新闻宣传条线起草回应口径，{_minute(due_at)} 前提交" + _moved(moved)


def statement_published(title: str, channels: Sequence[str],
                        moved: tuple[str, str] | None) -> str:
    return f"口径《{title}》已发布（{'、'.join(channels)}）" + _moved(moved)


def _stage(p: Mapping[str, Any]) -> str:
    return f"{p['stage']}（{STAGE_NAMES.get(p['stage'], p['stage'])}）"


# the statement's way through news and review: event type -> (timeline kind, text of payload)
STATEMENT_STEPS: dict[str, tuple[str, Any]] = {
    "news.item.submitted": ("statement.submitted",
                            lambda p: f"口径稿《{p['title']}》已提交审核（{p['item_id']} "
                                      f"第{p['revision']}版）"),
    "review.case.opened": ("review.opened",
                           lambda p: f"审核案件 {p['case_id']} 已开启，当前环节 {_stage(p)}"),
    "review.stage.approved": ("review.stage_approved",
                              lambda p: f"{_stage(p)} 审核通过，审核人 {p['reviewer']}"),
    "review.case.approved": ("review.approved",
                             lambda p: f"审核案件 {p['case_id']} 全部通过，文号 "
                                       f"{p['reference_no']}"),
    "review.case.returned": ("review.returned",
                             lambda p: f"{_stage(p)} 退回修改：{p['comment']}"),
    "review.case.rejected": ("review.rejected",
                             lambda p: f"{_stage(p)} 不予通过：{p['comment']}"),
    "review.stage.overdue": ("review.overdue",
                             lambda p: f"{_stage(p)} 审核超时（时限 {p['due_at']}），已提醒："
                                       f"{'、'.join(p.get('escalated_to') or []) or '—'}"),
}


def statement_step(event_type: str, payload: Mapping[str, Any]) -> tuple[str, str]:
    """(timeline kind, text) of one step of the statement's way through news and review."""
    kind, text = STATEMENT_STEPS[event_type]
    return kind, text(payload)


# --- tasks and meetings ---------------------------------------------------------------------

def task_added(title: str, owner: str, due_at: datetime, by: str) -> str:
    return f"任务「{title}」交 {owner}，{_minute(due_at)} 前完成（{by}）"


def task_updated(title: str, changes: Mapping[str, str], by: str) -> str:
    shown = {TASK_FIELD_NAMES.get(k, k): TASK_STATUS_NAMES.get(v, v) if k == "status" else v
             for k, v in changes.items()}
    return f"任务「{title}」" + "，".join(f"{k} → {v}" for k, v in shown.items()) + f"（{by}）"


def meeting_scheduled(title: str, starts_at: datetime, attendees: Sequence[str],
                      by: str) -> str:
    return f"联席会议「{title}」定于 {_minute(starts_at)}，参会：{'、'.join(attendees)}（{by}）"


def minutes_recorded(title: str, decisions: int, by: str) -> str:
    return f"联席会议「{title}」纪要已记录，形成决定 {decisions} 项并转为任务（{by}）"


# --- deadlines ------------------------------------------------------------------------------

def deadline_escalated(kind: str, deadline_at: datetime, step: int, notify: str | None,
                       tlp: str | None) -> str:
    who = NOTIFY_NAMES.get(notify or "", notify)
    return (f"{DEADLINE_NAMES.get(kind, kind)}时限（{_minute(deadline_at)}）已超时，"
            f"第{step}级督办：通知{who}（TLP:{tlp}）")
