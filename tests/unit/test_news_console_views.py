"""The news reads the console needs: the item as each channel will render it (nothing sent)
and the publication queue per channel with its retry state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.news import items, preview, queue, queue_view
from services.news.config import NewsConfig
from tests.unit.test_news_publication import T0, approve, article, cfg, receiver, uow  # noqa: F401


def test_preview_renders_the_revision_for_every_channel_of_its_column(
        uow: Any, cfg: NewsConfig) -> None:  # noqa: F811
    item = article(uow, title="<script>alert(1)</script>执法检查")
    items.revise_item(uow(), item["id"], "执法检查第二稿", "第二稿正文。\n\n第二段。",
                         "editor-li")
    shown = preview.preview(uow(), item["id"], cfg)
    assert shown["revision"] == 2 and shown["column"] == "人大工作进行时"
    by = {c["channel"]: c for c in shown["channels"]}
    assert list(by) == ["website", "wechat", "webhook"]
    assert "执法检查第二稿" in by["website"]["primary"] and "第二段" in by["website"]["primary"]
    assert by["wechat"]["enabled"] is False and by["website"]["enabled"] is True
    assert by["wechat"]["document"]["article"]["title"] == "执法检查第二稿"

    first = preview.preview(uow(), item["id"], cfg, revision=1)
    site = {c["channel"]: c for c in first["channels"]}["website"]["primary"]
    assert "<script>alert(1)</script>" not in site and "&lt;script&gt;" in site
    with pytest.raises(preview.RevisionNotFound):
        preview.preview(uow(), item["id"], cfg, revision=9)
    assert queue_view.listing(uow(), cfg)["deliveries"] == [], "a preview sends nothing"


def test_queue_lists_open_deliveries_with_their_retry_state(
        uow: Any, cfg: NewsConfig) -> None:  # noqa: F811
    item = article(uow)
    approve(uow, item["id"], cfg)
    queue.deliver_due(uow(), cfg, now=T0)  # website sent, webhook fails once (receiver)
    view = queue_view.listing(uow(), cfg)
    [hook] = view["deliveries"]
    assert hook["channel"] == "webhook" and hook["status"] == "pending"
    assert hook["attempts"] == 1 and "500" in hook["last_error"]
    assert hook["title"] == item["title"] and hook["next_attempt_at"]
    chans = {c["channel"]: c for c in view["channels"]}
    assert chans["webhook"]["pending"] == 1 and chans["webhook"]["failing_since"]
    assert chans["website"]["pending"] == 0 and chans["website"]["failing_since"] is None
    assert queue_view.listing(uow(), cfg, channel="website")["deliveries"] == []
    everything = queue_view.listing(uow(), cfg, include_sent=True)["deliveries"]
    assert {d["status"] for d in everything} == {"sent", "pending"}
    queue.deliver_due(uow(), cfg, now=T0 + timedelta(seconds=2))
    queue.deliver_due(uow(), cfg, now=T0 + timedelta(seconds=6))
    assert queue_view.listing(uow(), cfg)["deliveries"] == []
