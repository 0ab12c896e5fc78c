"""The events for the people on a ticket and the comment queue: the `participant` recipient,
the shipped rules that reach them, and their Chinese messages (pure: no database, no bus)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from civicpulse import contracts
from services.notify import config, domain
from services.notify.rendering import render

SH = ZoneInfo("Asia/Shanghai")
PEOPLE = [domain.Person("wang", "section_head", "办公室", "wang@x.cn"),
          domain.Person("li", "editor", "新闻宣传处", "li@x.cn"),
          domain.Person("zhou", "editor", "新闻宣传处", "zhou@x.cn"),
          domain.Person("zhao", "leader_in_charge", "办公室", "zhao@x.cn")]
ON_TICKET = [{"party": "wang", "kind": "person", "role": "commander"},
             {"party": "新闻宣传处", "kind": "section", "role": "lead"},
             {"party": "cac", "kind": "agency", "role": "observer"}]
TICKET = {"ticket_id": "tkt-1", "incident_id": "inc-1", "level": "IV",
          "title": "舆情联合处置：代表履职（IV级）", "lead_section": "新闻宣传处",
          "participants": ON_TICKET}


def names(rule: domain.Rule, payload: dict) -> list[str]:
    return [t.recipient for t in domain.audience(rule, payload, PEOPLE, {})]


def test_participant_reaches_the_people_and_sections_on_the_ticket() -> None:
    anyone = domain.Rule("r", "e", "t", to=(domain.Audience("participant", "any"),))
    assert names(anyone, TICKET) == ["staff:wang", "staff:li", "staff:zhou"]
    commander = domain.Rule("r", "e", "t", to=(domain.Audience("participant", "commander"),))
    assert names(commander, TICKET) == ["staff:wang"]
    assert names(anyone, {**TICKET, "participants": []}) == []
    assert names(anyone, {"ticket_id": "tkt-1"}) == []  # an event without the list


def test_the_shipped_rules_reach_the_right_people() -> None:
    cfg = config.load()
    assert {"liaison.task.assigned", "liaison.deadline.near", "liaison.partner.commented",
            "news.comment.overdue"} <= cfg.event_types()
    (task,) = cfg.rules_for("liaison.task.assigned")
    assert names(task, {**TICKET, "assignee": "zhao"}) == ["staff:zhao"]
    assert names(task, {**TICKET, "assignee": "新闻宣传处"}) == ["staff:li", "staff:zhou"]
    (near,) = cfg.rules_for("liaison.deadline.near")
    assert names(near, TICKET) == ["staff:wang", "staff:li", "staff:zhou"]
    moved = {**TICKET, "lead_section": "办公室"}  # escalated: the new lead section is told too
    assert names(near, moved) == ["staff:wang", "staff:li", "staff:zhou", "staff:zhao"]
    assert near.is_urgent({"level": "II"}) and not near.is_urgent({"level": "IV"})
    (comment,) = cfg.rules_for("liaison.partner.commented")
    assert names(comment, TICKET) == ["staff:wang", "staff:li", "staff:zhou"]
    (overdue,) = cfg.rules_for("news.comment.overdue")
    assert names(overdue, {"owner": "wang"}) == ["staff:wang", "staff:li", "staff:zhou"]


def payloads() -> dict[str, dict]:
    """One valid payload per new event (checked against its contract)."""
    out = {
        "liaison.task.assigned": {**TICKET, "task_id": 7, "task": "联系记者", "assignee": "zhao",
                                  "previous_assignee": "li", "due_at": "2026-11-29T02:00:00+00:00",
                                  "by": "wang"},
        "liaison.deadline.near": {**TICKET, "deadline": "acknowledge",
                                  "due_at": "2026-11-29T02:00:00+00:00", "minutes_left": 29.6},
        "liaison.partner.commented": {**TICKET, "agency": "cac", "agency_name": "市委网信办",
                                      "text": "已安排属地核查", "at": "2026-11-29T01:00:00+00:00"},
        "news.comment.overdue": {"comment_id": 12, "item_id": "itm-1", "item_title": "执法检查",
                                 "owner": "wang", "channel": "wechat",
                                 "received_at": "2026-11-28T01:00:00+00:00",
                                 "reply_due_at": "2026-11-29T01:00:00+00:00"}}
    for type_, payload in out.items():
        contracts.validate_payload(type_, 1, payload)
    return out


def test_the_messages_are_chinese_with_the_facts_and_a_link() -> None:
    expected = {"liaison.task.assigned": ("【任务】", "联系记者", "原由 li 承办", "11-29 10:00"),
                "liaison.deadline.near": ("【时限提醒】", "签收时限", "尚余约 30 分钟"),
                "liaison.partner.commented": ("【协同单位留言】", "市委网信办", "已安排属地核查"),
                "news.comment.overdue": ("【评论待回复】", "《执法检查》", "11-29 09:00")}
    cfg = config.load()
    for type_, payload in payloads().items():
        (rule,) = cfg.rules_for(type_)
        msg = render(rule.template, type_, payload, "http://console/x", SH)
        text = msg.subject + "\n" + msg.body
        for fragment in expected[type_]:
            assert fragment in text, (type_, fragment, text)
        assert "{{" not in text and msg.body.endswith("查看详情：http://console/x")
