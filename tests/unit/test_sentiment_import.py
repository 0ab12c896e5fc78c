"""`civicpulse mentions import` (JSONL and CSV, idempotent), `civicpulse sentiment report`, and
feed entries as mentions (a local Atom file)."""

import dataclasses
import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from services.sentiment import config, db, domain, feeds, handlers
from services.sentiment.ingest.commands import import_mentions
from services.sentiment.reports.commands import report
from services.sentiment.schemas import validate_batch

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>市民论坛</title><id>urn:forum</id>
<updated>2026-11-27T08:00:00Z</updated>
<entry><id>urn:forum:1</id><title>人大常委会审议预算草案</title>
<link href="https://forum.example.cn/t/1"/><updated>2026-11-27T07:00:00Z</updated>
<summary type="html">&lt;p&gt;预算公开&lt;b&gt;透明&lt;/b&gt;，点赞&lt;/p&gt;</summary>
<author><name>网友甲</name></author></entry>
<entry><id>urn:forum:2</id><title>代表信箱回复太敷衍</title>
<updated>2026-11-27T07:30:00Z</updated></entry>
</feed>"""


def count(url):
    with create_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(db.mentions)).scalar()


def test_jsonl_import_reports_rejects_and_reruns_without_duplicates(tmp_path, sqlite_url):
    rows = [{"source": "monitor", "channel": "monitor", "external_id": f"e{i}",
             "text": f"人大代表建议公开预算 {i}", "published_at": "2026-11-20T08:00:00+08:00"}
            for i in range(25)]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + ["{not json", json.dumps(
        {"source": "monitor", "channel": "nowhere", "external_id": "bad", "text": "x"})]
    f = tmp_path / "mentions.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    args = [str(f), "--batch-size", "10", "--database-url", sqlite_url, "--rejects", str(rejects)]
    first = CliRunner().invoke(import_mentions, args)
    assert first.exit_code == 0, first.output
    assert "accepted 25, duplicates 0, rejected 2" in first.output
    assert [json.loads(x)["line"] for x in rejects.read_text().splitlines()] == [26, 27]
    again = CliRunner().invoke(import_mentions, args)
    assert "accepted 0, duplicates 25, rejected 2" in again.output
    assert count(sqlite_url) == 25


def test_csv_import_with_blank_cells_and_a_markdown_report(tmp_path, sqlite_url):
    f = tmp_path / "export.csv"
    f.write_text("source,channel,external_id,url,author,text,published_at,reposts,likes\n"
                 "weibo,weibo,1,,@a,预算审计问题没人管，失望,2026-11-20T09:00:00+08:00,3,\n"
                 "wechat,wechat_comment,,https://mp.example.cn/s/2,,感谢人大代表认真负责,"
                 "2026-11-20T10:00:00+08:00,,5\n", encoding="utf-8")
    out = CliRunner().invoke(import_mentions, [str(f), "--database-url", sqlite_url])
    assert "accepted 2, duplicates 0, rejected 0" in out.output, out.output
    md = tmp_path / "daily.md"
    res = CliRunner().invoke(report, ["--period", "daily", "--date", "2026-11-20", "--format",
                                      "md", "--out", str(md), "--database-url", sqlite_url])
    assert res.exit_code == 0, res.output
    text = md.read_text()
    assert "Mentions: **2**, negative: **1**" in text
    assert "| budget | 1 | 1 |" in text and "| deputies | 1 | 0 |" in text
    png = tmp_path / "weekly.png"
    CliRunner().invoke(report, ["--period", "weekly", "--date", "2026-11-20", "--format", "png",
                                "--out", str(png), "--database-url", sqlite_url])
    assert png.read_bytes().startswith(b"\x89PNG")


def test_an_unreadable_feed_is_an_error(tmp_path):
    with pytest.raises(feeds.FeedError):
        feeds.fetch("none", str(tmp_path / "missing.atom"))


def test_feed_entries_become_valid_mentions(tmp_path):
    f = tmp_path / "forum.atom"
    f.write_text(ATOM, encoding="utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        items = feeds.fetch("forum", f"http://127.0.0.1:{server.server_port}/forum.atom",
                            "forum")
    finally:
        server.shutdown()
    assert items == feeds.fetch("forum", str(f), "forum")  # a local path works too
    valid, rejected = validate_batch(items, config.load().channels)
    assert rejected == []
    assert [m["external_id"] for m in valid] == ["urn:forum:1", "urn:forum:2"]
    assert valid[0]["text"] == "人大常委会审议预算草案 预算公开 透明 ，点赞"
    assert valid[0]["url"] == "https://forum.example.cn/t/1" and valid[0]["author"] == "网友甲"
    assert valid[1]["published_at"].isoformat() == "2026-11-27T07:30:00+00:00"


def test_polling_feeds_ingests_entries_once_and_skips_a_broken_feed(tmp_path, uow_factory):
    f = tmp_path / "forum.atom"
    f.write_text(ATOM, encoding="utf-8")
    cfg = dataclasses.replace(config.load(), feeds={
        "forum": {"url": str(f), "channel": "forum"},
        "broken": {"url": str(tmp_path / "missing.atom"), "channel": "feed"}})
    new_uow = uow_factory("sentiment")
    scorer = domain.LexiconScorer()
    assert handlers.poll_feeds(new_uow, cfg, scorer) == {"forum": 2}
    assert handlers.poll_feeds(new_uow, cfg, scorer) == {"forum": 0}
