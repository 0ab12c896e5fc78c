"""Timeline text is Chinese for people: no status or field codes leak into it."""

import re

from services.liaison import messages
from services.liaison.domain import STATUSES, TASK_STATUSES


def test_every_status_has_a_chinese_name():
    assert set(messages.STATUS_NAMES) == set(STATUSES)
    assert set(messages.TASK_STATUS_NAMES) == set(TASK_STATUSES)


def test_status_and_task_changes_read_in_chinese():
    texts = [messages.status_changed("responding", "monitoring", "lead", None),
             messages.task_updated("核实", {"status": "done", "assignee": "qian"}, "lead"),
             messages.subsided(0.3, ("responding", "monitoring"))]
    assert texts[0] == "状态：处置中 → 观察中（lead）"
    assert texts[1] == "任务「核实」状态 → 已完成，承办 → qian（lead）"
    for text in texts:
        assert not re.search(r"\b(open|acknowledged|responding|monitoring|resolved|closed|done|"
                             r"status|assignee)\b", text), text


def test_times_are_written_on_the_office_clock_and_shared_events_by_name(monkeypatch):
    from datetime import UTC, datetime

    due = datetime(2026, 11, 29, 6, 5, tzinfo=UTC)
    assert "2026-11-29 14:05 前完成" in messages.task_added("核实", "qian", due, "lead")
    monkeypatch.setenv("CIVICPULSE_OFFICE_TZ", "Europe/Berlin")
    assert "2026-11-29 07:05 前完成" in messages.task_added("核实", "qian", due, "lead")
    assert messages.shared("liaison.ticket.acknowledged", "市委网信办", "cac", "AMBER", False) \
        == "「签收通报」已共享给 市委网信办（cac），TLP:AMBER"
    assert messages.withheld("liaison.ticket.overdue", "RED") == \
        "「超时通报」TLP:RED，仅限本办，不对外共享"
    assert messages.shared("other.event", "甲", "a", "GREEN", True).startswith("other.event 已补发")
