"""Columns configuration validation, the formatters and the news CLI (webhook signing:
test_webhooks.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from marshmallow import ValidationError

from services.news import config
from services.news.channels.formatters import (
    WEIBO_LIMIT,
    JournalFormatter,
    WebsiteFormatter,
    WechatFormatter,
    WeiboFormatter,
)
from services.news.cli import news

ITEM = {"id": "itm-1", "kind": "article", "column": "代表之声", "title": "<b>代表</b>心声",
        "body": "第一段 & 说明\n换行\n\n第二段", "revision": 2, "reference_no": "RD-1",
        "published_at": None, "notes": []}


def test_shipped_columns_follow_the_work_plan() -> None:
    cfg = config.load()
    for name in ("人大工作进行时", "代表风采", "法治前沿"):
        assert {"website", "wechat"} <= set(cfg.column(name).channels)
    for name in ("特别关注", "立法聚焦", "监督纵横", "代表之声"):
        assert cfg.column(name).channels == ("journal",)
    assert cfg.column("no such column") == cfg.default_column


def _write(tmp_path: Path, mutate: Any) -> str:
    data = yaml.safe_load((config.HERE / "news.yaml").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "news.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("mutate", [
    lambda d: d["columns"]["代表风采"].update(channels=["fax"]),
    lambda d: d["columns"]["代表风采"].update(max_age_days=0),
    lambda d: d["channels"]["webhook"].pop("url_env"),
    lambda d: d["channels"]["website"].pop("dir"),
    lambda d: d["channels"]["website"].update(formatter="pdf"),
    lambda d: d.pop("queue"),
])
def test_invalid_configuration_is_refused(tmp_path: Path, mutate: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_CONFIG", _write(tmp_path, mutate))
    with pytest.raises(ValidationError):
        config.load()


def test_website_page_escapes_and_keeps_line_breaks() -> None:
    r = WebsiteFormatter("website").format(ITEM, "publish", {"live": []})
    page = r.files["itm-1.html"]
    assert "&lt;b&gt;代表&lt;/b&gt;心声" in page and "<b>" not in page
    assert "第一段 &amp; 说明<br>换行" in page
    assert 'href="itm-1.html"' in r.files["index.html"] and r.primary == "itm-1.html"
    gone = WebsiteFormatter("website").format(ITEM, "retract", {"live": [ITEM]})
    assert "第二段" not in gone.files["itm-1.html"]
    assert "itm-1" not in gone.files["index.html"]


def test_social_and_journal_formats() -> None:
    long = {**ITEM, "body": "长" * 5000}
    post = WeiboFormatter("weibo").format(long, "publish", {"website_url": "http://x/itm-1.html"})
    assert len(post.document["status"]) <= WEIBO_LIMIT
    assert post.document["status"].endswith("http://x/itm-1.html")
    article = WechatFormatter("wechat").format(ITEM, "publish", {}).document["article"]
    assert article["digest"].startswith("第一段") and "&amp;" in article["content"]
    text = JournalFormatter("journal").format(ITEM, "publish", {}).files["itm-1.txt"]
    assert text.startswith("【代表之声】")


def test_cli_lists_columns_and_runs_the_sweep(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICPULSE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("NEWS_DATABASE_URL", raising=False)
    runner = CliRunner()
    out = runner.invoke(news, ["columns"])
    assert out.exit_code == 0 and "代表之声\t1825 d\tjournal" in out.output
    out = runner.invoke(news, ["sweep"])
    assert out.exit_code == 0 and '"expired": []' in out.output
    out = runner.invoke(news, ["restore", "itm-x"])
    assert out.exit_code != 0 and "no item" in out.output
