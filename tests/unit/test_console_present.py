"""How the console shows times and deadlines: office time zone, Chinese countdowns."""

from __future__ import annotations

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
    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = answers

    def get(self, service: str, path: str, **params: object) -> object:
        return self.answers[path]


def test_my_tickets_are_those_of_my_section_most_urgent_first() -> None:
    def ticket(tid: str, section: str, due: datetime, status: str = "open") -> dict:
        return {"id": tid, "lead_section": section, "status": status, "level": "III",
                "deadlines": {"acknowledge": due.isoformat(), "first_response": None,
                              "resolve": (due + timedelta(days=1)).isoformat()}}
    api = FakeApi({"/tickets": {"tickets": [
        ticket("late", "新闻处", NOW + timedelta(hours=3)),
        ticket("other", "联络处", NOW + timedelta(hours=1)),
        ticket("soon", "新闻处", NOW - timedelta(minutes=5)),
        ticket("done", "新闻处", NOW, status="closed")]}})
    me = {"name": "王芳", "role": "section_head", "section": "新闻处"}
    mine = dashboard.my_tickets(api, me, NOW)
    assert [t["id"] for t in mine] == ["soon", "late"]
    assert mine[0]["countdown"]["css"] == "overdue"
    leader = {"name": "李", "role": "leader_in_charge", "section": ""}
    assert {t["id"] for t in dashboard.my_tickets(api, leader, NOW)} == {"late", "other", "soon"}


def test_sign_in_refusals_are_said_in_chinese_with_the_wait_for_a_lockout() -> None:
    from services.console.pages.auth import refusal_text, safe_next

    assert refusal_text({"ok": False, "reason": "bad_credentials"}) == "用户名或密码错误。"
    locked = refusal_text({"ok": False, "reason": "locked", "retry_after": 840.5})
    assert locked == "连续登录失败次数过多，账号已暂时锁定。请在 15 分钟后重试。"
    assert "停用" in refusal_text({"ok": False, "reason": "disabled", "retry_after": None})
    assert safe_next("/tickets/t-1?x=1") == "/tickets/t-1?x=1"
    assert safe_next("//evil.example/") == "/" and safe_next("https://evil.example/") == "/"
