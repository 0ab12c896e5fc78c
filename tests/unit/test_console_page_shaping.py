"""The console pages' pure shaping: findings marked in escaped text, revision diffs, the review
service's refusals in Chinese, the plan calendar, the sentiment chart, safe evidence links."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.console import newsroom, opinion, review_desk, textmarks


def test_findings_are_marked_and_everything_else_is_escaped() -> None:
    findings = [{"rule": "lexicon", "severity": "blocking",
                 "message": "prohibited term 「TODO」 (草稿占位符)"},
                {"rule": "lexicon", "severity": "warning", "message": "sensitive term 「网传」"},
                {"rule": "malformed_link", "severity": "blocking", "excerpt": "javascript:x"}]
    out = str(textmarks.highlight("<script>网传</script> todo <a href='javascript:x'>", findings))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert '<mark class="finding finding-warning">网传</mark>' in out
    assert '<mark class="finding finding-blocking">todo</mark>' in out
    assert '<mark class="finding finding-blocking">javascript:x</mark>' in out


def test_overlapping_marks_merge_and_blocking_wins() -> None:
    findings = [{"rule": "lexicon", "severity": "warning", "message": "term 「内部」"},
                {"rule": "lexicon", "severity": "blocking", "message": "term 「内部资料」"}]
    out = str(textmarks.highlight("这是内部资料。", findings))
    assert out == '这是<mark class="finding finding-blocking">内部资料</mark>。'


def test_diff_marks_removed_and_added_text_escaped() -> None:
    out = str(textmarks.diff_markup("今天<b>天气</b>好", "今天天气很好"))
    assert "<del>&lt;b&gt;</del>" in out and "<ins>很</ins>" in out and "<b>" not in out


def test_refusals_read_in_chinese() -> None:
    text = review_desk.refusal(403, "stage leader_in_charge needs the role leader_in_charge, "
                                    "not principal")
    assert text == ("不能越级审批：本稿当前处于「分管领导审核」阶段，"
                    "须由分管领导审核（您是主要领导）。")
    assert review_desk.refusal(409, "the case is approved") == "本审核已通过，不能再作决定。"
    assert "作者" in review_desk.refusal(403, "the author of an item never reviews it")
    assert "意见" in review_desk.refusal(400, "a return needs a comment")
    assert "阻断" in review_desk.refusal(422, "approval blocked by findings")
    assert review_desk.refusal(500, "boom") == "服务出错，请稍后重试。"


def test_decision_form_becomes_the_api_body() -> None:
    body = review_desk.decision_body({"decision": "approve", "comment": " 同意 ",
                                      "accuracy": "on", "orientation": "on"})
    assert body == {"decision": "approve", "comment": "同意",
                    "checklist": {"accuracy": True, "orientation": True, "format": False}}


def test_queue_puts_the_nearest_deadline_first_and_flags_overdue() -> None:
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    cases = [{"id": "b", "stage_due_at": None, "created_at": "2026-11-29T07:00:00+00:00"},
             {"id": "a", "stage_due_at": "2026-11-29T07:30:00+00:00"},
             {"id": "c", "stage_due_at": "2026-11-29T09:00:00+00:00"}]
    rows = review_desk.queue(cases, now)
    assert [r["id"] for r in rows] == ["a", "c", "b"]
    assert rows[0]["overdue"] and rows[0]["countdown"]["css"] == "overdue"
    assert not rows[1]["overdue"]


def test_audit_entries_read_as_words() -> None:
    [row] = review_desk.audit_rows([{"at": "2026-11-29T07:00:00+00:00", "actor": "precheck",
                                     "action": "prechecked", "stage": None, "revision": 1,
                                     "comment": None, "detail": {"blocking": 1, "warning": 2}}])
    assert row["actor"] == "自动预检" and row["detail"] == "阻断 1 项，提示 2 项"


def test_plan_calendar_places_entries_on_their_days() -> None:
    plan = {"themes": [{"title": "宪法宣传", "entries": [
        {"title": "宪法日稿件", "due_on": "2026-12-04", "state": "planned"}]}]}
    weeks = newsroom.month_grid("2026-12", plan, date(2026, 12, 1))
    cells = [c for w in weeks for c in w]
    assert cells[0]["date"] == "2026-11-30" and not cells[0]["in_month"]
    [day] = [c for c in cells if c["date"] == "2026-12-04"]
    assert day["entries"][0]["theme"] == "宪法宣传"
    assert newsroom.neighbour_months("2026-01") == ("2025-12", "2026-02")
    assert newsroom.month_of("bogus", date(2026, 12, 1)) == "2026-12"


def test_office_times_round_trip() -> None:
    iso = newsroom.office_iso("2026-12-01T09:30", "Asia/Shanghai")
    assert iso == "2026-12-01T09:30:00+08:00"
    assert newsroom.office_input("2026-12-01T01:30:00+00:00", "Asia/Shanghai") == \
        "2026-12-01T09:30"
    assert newsroom.office_iso("", "Asia/Shanghai") is None


def test_chart_scales_to_the_largest_value_and_links_are_http_only() -> None:
    points = [{"minute": "2026-11-29T07:00:00+00:00", "volume": 10, "negative": 5},
              {"minute": "2026-11-29T07:01:00+00:00", "volume": 20, "negative": 15}]
    chart = opinion.chart(points, (("volume", "声量", "#000"), ("negative", "负面", "#f00")),
                          "minute", "Asia/Shanghai")
    assert chart.y_max == 20 and chart.ticks[0]["label"] == "15:00"
    assert chart.lines[0]["points"].split()[1].endswith(",10.0")
    assert opinion.safe_url("javascript:alert(1)") is None
    assert opinion.safe_url("https://weibo.com/x") == "https://weibo.com/x"


def test_a_list_is_paged_with_its_neighbours_and_bad_page_numbers_mean_the_first() -> None:
    from services.console import paging

    assert paging.pager(120, 1, 50) == {"page": 1, "last": 3, "total": 120, "prev": None,
                                        "next": 2}
    assert paging.pager(120, 3, 50)["next"] is None and paging.pager(0, 1, 50)["last"] == 1
    assert [paging.number(a) for a in ({}, {"page": "4"}, {"page": "x"}, {"page": "-2"})] == \
        [1, 4, 1, 1]
    assert paging.offset(3, 50) == 100


def test_the_board_asks_for_the_most_urgent_in_work_and_the_newest_settled() -> None:
    from services.console import ticket_view

    assert ticket_view.ask("open", 30)["order"] == "due"
    assert ticket_view.ask("closed", 30, 60) == {"status": "closed", "order": "opened",
                                                 "limit": 30, "offset": 60}
    answers = {s: {"tickets": [], "total": 0} for s in ticket_view.STATUSES}
    answers["open"] = {"tickets": [{"id": "t1", "status": "open", "met": {},
                                    "deadlines": {"acknowledge": "2026-11-29T07:00:00+00:00"}}],
                       "total": 41}
    columns = ticket_view.board(answers, datetime(2026, 11, 29, 6, 0, tzinfo=UTC))
    assert [c["status"] for c in columns] == list(ticket_view.STATUSES)
    assert columns[0]["total"] == 41 and columns[0]["tickets"][0]["countdown"]["css"] == "ok"


def test_the_review_queue_asks_for_the_most_urgent_first_and_the_last_decided_first() -> None:
    assert review_desk.tab_query("mine", "principal") == {
        "status": "open", "order": "due", "stage": "principal"}
    assert review_desk.tab_query("open", "principal") == {"status": "open", "order": "due"}
    assert review_desk.tab_query("done", None) == {"status": "approved,returned,rejected",
                                                   "order": "updated"}
