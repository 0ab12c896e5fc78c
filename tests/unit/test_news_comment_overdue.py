"""A public comment past its reply deadline is announced once (`news.comment.overdue`, with
its item and the item's author); an answered comment, or one overdue for longer than the
notice window when first seen, is not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from civicpulse.tables import outbox_table
from services.news import config, interaction, items

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def uow(uow_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    return uow_factory("news")


def overdue_events(uow: Any) -> list[dict[str, Any]]:
    with uow() as u:
        rows = u.session.execute(select(outbox_table.c.body).where(
            outbox_table.c.event_type == "news.comment.overdue").order_by(outbox_table.c.id))
        return [json.loads(body)["payload"] for body in rows.scalars()]


def test_an_overdue_comment_is_announced_once(uow: Any) -> None:
    cfg = config.load()
    item = items.create_item(uow(), {"kind": "article", "title": "执法检查", "body": "正文",
                                        "column": "人大工作进行时", "author": "editor-zhou"})
    batch = [{"channel": "wechat", "external_id": f"c{i}", "author": "网友", "text": "何时公布？",
              "item_id": item["id"] if i == 0 else None, "received_at": T0 + timedelta(hours=i)}
             for i in range(3)]
    interaction.receive_comments(uow(), batch, cfg)
    now = T0 + timedelta(hours=cfg.reply_hours + 1, minutes=30)  # c0 and c1 overdue
    answered = interaction.list_comments(uow(), "overdue", now)[1]
    interaction.reply(uow(), answered["id"], "已公布。", "editor-li", now=now)

    assert interaction.flag_overdue_comments(uow(), now) == 1
    assert interaction.flag_overdue_comments(uow(), now) == 0  # once
    (event,) = overdue_events(uow)
    assert (event["item_id"], event["item_title"], event["owner"], event["channel"]) == (
        item["id"], "执法检查", "editor-zhou", "wechat")
    assert event["reply_due_at"] == (T0 + timedelta(hours=cfg.reply_hours)).isoformat()

    # c2 falls due later; seen only after the notice window: not announced
    late = T0 + timedelta(hours=2 + cfg.reply_hours) + interaction.OVERDUE_NOTICE_WINDOW \
        + timedelta(minutes=1)
    assert interaction.flag_overdue_comments(uow(), late) == 0
    assert len(overdue_events(uow)) == 1
