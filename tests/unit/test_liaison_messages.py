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
