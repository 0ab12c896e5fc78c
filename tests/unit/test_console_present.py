"""How the console shows times and deadlines: office time zone, Chinese countdowns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from services.console import dashboard, present

NOW = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai


def test_times_are_shown_in_the_office_time_zone() -> None:
    assert present.local_time("2026-11-29T06:05:00+00:00", "Asia/Shanghai") == "2026-11-29 14:05"
    assert present.local_time("2026-11-29T06:05:00+00:00", "Europe/Berlin") == "2026-11-29 07:05"
    assert present.short_time("2026-11-29T06:05:00+00:00", "Asia/Shanghai", NOW) == "14:05"
    assert present.short_time("2026-11-27T17:00:00+00:00", "Asia/Shanghai", NOW) == "11月28日 01:00"
    assert present.local_time(None, "Asia/Shanghai") == ""


def test_countdowns_say_how_long_is_left_and_overdue_is_marked() -> None:
    assert present.countdown(NOW + timedelta(hours=2, minutes=5), NOW) == \
        {"text": "剩余 2小时5分", "css": "ok"}
    assert present.countdown(NOW + timedelta(minutes=30), NOW)["css"] == "soon"
    assert present.countdown(NOW - timedelta(minutes=12), NOW) == \
        {"text": "已逾期 12分钟", "css": "overdue"}
    assert present.countdown(NOW - timedelta(days=2, hours=3), NOW)["text"] == "已逾期 2天3小时"
    assert present.countdown(None, NOW)["text"] == "无时限"
    assert present.countdown(NOW, NOW, met=True)["css"] == "met"


def test_codes_are_labelled_in_chinese_and_unknown_codes_shown_as_they_are() -> None:
    assert present.label("status", "responding") == "处置中"
    assert present.label("level_short", "II") == "Ⅱ级"
    assert present.label("status", "strange") == "strange"


class FakeApi:
    """Answers each ask with `answer(query parameters)`, and records the asks."""

    def __init__(self, answer: Callable[[dict[str, object]], object]) -> None:
        self.answer, self.asked = answer, []

    def get(self, service: str, path: str, **params: object) -> object:
        self.asked.append(params)
        return self.answer(params)


def ticket(tid: str, due: datetime, status: str = "open", acknowledged: bool = False) -> dict:
    return {"id": tid, "lead_section": "新闻处", "status": status, "level": "III",
            "met": {"acknowledge": acknowledged},
            "deadlines": {"acknowledge": due.isoformat(),
                          "first_response": (due + timedelta(hours=2)).isoformat(),
                          "resolve": (due + timedelta(days=1)).isoformat()}}


def test_my_tickets_merge_my_sections_and_those_i_command_most_urgent_first() -> None:
    section = {"tickets": [ticket("late", NOW + timedelta(hours=3)),
                           ticket("both", NOW + timedelta(hours=1))], "total": 7}
    commanded = {"tickets": [ticket("both", NOW + timedelta(hours=1)),
                             ticket("soon", NOW - timedelta(minutes=5))], "total": 2}
    api = FakeApi(lambda q: section if q.get("lead_section") == "新闻处" else commanded)
    me = {"name": "王芳", "role": "section_head", "section": "新闻处"}
    mine = dashboard.my_tickets(api, me, NOW, limit=2)
    assert [t["id"] for t in mine["rows"]] == ["soon", "both"] and mine["total"] == 7
    assert mine["rows"][0]["countdown"]["css"] == "overdue"
    assert {"in_work": "true", "order": "due", "limit": 2, "commander": "王芳"} in api.asked


def test_a_leader_leads_every_section_in_one_ask_ordered_by_the_next_unmet_deadline() -> None:
    # acknowledged: its next deadline is the first response, 2 h after the acknowledgement's
    every = {"tickets": [ticket("acked", NOW - timedelta(hours=1), acknowledged=True),
                         ticket("new", NOW + timedelta(minutes=30))], "total": 2}
    api = FakeApi(lambda q: every)
    leader = {"name": "李", "role": "leader_in_charge", "section": ""}
    mine = dashboard.my_tickets(api, leader, NOW)
    assert [(t["id"], t["next_deadline"]) for t in mine["rows"]] == [
        ("new", "acknowledge"), ("acked", "first_response")]
    assert api.asked == [{"in_work": "true", "order": "due", "limit": dashboard.HOME_TICKETS}]


def test_sign_in_refusals_are_said_in_chinese_with_the_wait_for_a_lockout() -> None:
    from services.console.pages.auth import refusal_text, safe_next

    assert refusal_text({"ok": False, "reason": "bad_credentials"}) == "用户名或密码错误。"
    locked = refusal_text({"ok": False, "reason": "locked", "retry_after": 840.5})
    assert locked == "连续登录失败次数过多，账号已暂时锁定。请在 15 分钟后重试。"
    assert "停用" in refusal_text({"ok": False, "reason": "disabled", "retry_after": None})
    assert safe_next("/tickets/t-1?x=1") == "/tickets/t-1?x=1"
    assert safe_next("//evil.example/") == "/" and safe_next("https://evil.example/") == "/"


def test_open_incidents_are_counted_and_listed_by_level_strongest_first() -> None:
    query = dashboard.incident_query("II")
    assert query["status"] == "detected,escalated,subsiding" and query["level"] == "II"
    answers = {lv: {"incidents": [], "total": 0} for lv in dashboard.LEVELS}
    answers["II"] = {"incidents": [{"id": "inc-1"}], "total": 12}
    shown = dashboard.open_incidents(answers)
    assert list(shown) == ["I", "II", "III", "IV"]
    assert shown["II"] == {"rows": [{"id": "inc-1"}], "total": 12}


def test_my_open_tasks_are_asked_for_earliest_due_first_one_page() -> None:
    answer = {"tasks": [{"id": 1, "due_at": (NOW + timedelta(hours=1)).isoformat()}],
              "total": 35}
    api = FakeApi(lambda q: answer)
    mine = dashboard.my_tasks(api, {"name": "王芳", "role": "editor", "section": "新闻处"}, NOW)
    assert mine["total"] == 35 and mine["rows"][0]["countdown"]["css"] == "ok"
    assert api.asked == [{"assignee": "王芳", "section": "新闻处", "status": "todo,doing",
                          "limit": dashboard.HOME_TASKS}]


def test_a_live_fragments_version_follows_its_data_and_the_minute() -> None:
    from services.console import live

    data = {"tickets": {"rows": [{"id": "t1"}], "total": 1}}
    same = live.version_of(data, NOW)
    assert live.version_of({"tickets": {"total": 1, "rows": [{"id": "t1"}]}}, NOW) == same
    assert live.version_of(data, NOW + timedelta(seconds=30)) == same
    assert live.version_of(data, NOW + timedelta(minutes=1)) != same
    assert live.version_of({"tickets": {"rows": [], "total": 0}}, NOW) != same
