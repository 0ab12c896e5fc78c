"""Sentiment use cases on a migrated SQLite database (the lexicon scorer: deterministic)."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from civicpulse.pseudonyms import url_identity
from civicpulse.tables import outbox_table
from services.sentiment import config, db, domain, handlers
from services.sentiment.reports.build import build
from services.sentiment.reports.render import render
from services.sentiment.schemas import validate_batch

CFG = config.load()
SCORER = domain.LexiconScorer()
NOW = datetime(2026, 11, 27, 8, 0, 30, tzinfo=UTC)
ANGRY = "投诉三次了还是推诿，不作为，愤怒"


@pytest.fixture
def uow(uow_factory):
    return uow_factory("sentiment")


def mentions(n, tag="noise", *, prefix="m", text=ANGRY, **extra):
    return validate_batch([{"source": "weibo", "channel": "weibo", "external_id": f"{prefix}{i}",
                            "author": f"@citizen{i}", "text": f"#{tag}# {text} {i}",
                            "reposts": i, **extra} for i in range(n)], CFG.channels)[0]


def events(uow):
    with uow() as u:
        return [json.loads(r.body) for r in u.session.execute(
            select(outbox_table).order_by(outbox_table.c.id))]


def test_a_burst_on_a_fresh_hashtag_is_detected_at_once_with_evidence(uow):
    out = handlers.ingest(uow(), mentions(12), cfg=CFG, scorer=SCORER, now=NOW)
    assert out["accepted"] == 12 and out["duplicates"] == 0
    [inc] = out["incidents"]
    assert (inc["topic"], inc["level"], inc["status"]) == ("#noise", "IV", "detected")
    [ev] = events(uow)
    assert ev["type"] == "sentiment.incident.detected"
    p = ev["payload"]
    assert p["negative_count"] == 12 and p["volume"] == 12 and p["level_name"] == "一般"
    assert [m["reach"] for m in p["evidence"]] == [11, 10, 9, 8, 7]
    assert p["curve"][-1]["negative"] == 12


def test_exact_duplicates_are_dropped_and_detect_nothing_twice(uow):
    handlers.ingest(uow(), mentions(12), cfg=CFG, scorer=SCORER, now=NOW)
    again = handlers.ingest(uow(), mentions(12) + mentions(12), cfg=CFG, scorer=SCORER,
                            now=NOW + timedelta(seconds=5))
    assert again == {"accepted": 0, "duplicates": 24, "incidents": []}
    assert len(events(uow)) == 1


def test_authors_are_pseudonymised_and_reposts_grouped_into_a_story(uow):
    original = "人大代表信箱回复敷衍，反映的噪音问题一直没人管，太失望了"
    batch = validate_batch(
        [{"source": "weibo", "channel": "weibo", "external_id": "o", "author": "@alice",
          "text": original}] +
        [{"source": "weibo", "channel": "weibo", "external_id": f"r{i}", "author": f"@u{i}",
          "text": f"//@用户{i}: {original}"} for i in range(5)] +
        [{"source": "wechat", "channel": "wechat_comment", "external_id": "x",
          "text": "预算草案公开透明，点赞"}], CFG.channels)[0]
    handlers.ingest(uow(), batch, cfg=CFG, scorer=SCORER, now=NOW)
    with uow() as u:
        rows = u.session.execute(select(db.mentions)).mappings().all()
        story_rows = u.session.execute(select(db.stories)).mappings().all()
    assert all("alice" not in (r["author_hash"] or "") for r in rows)
    assert rows[0]["author_hash"] == domain.pseudonymise("@alice", CFG.pseudonym_key)
    assert sorted(s["mention_count"] for s in story_rows) == [1, 6]
    assert len({r["story_id"] for r in rows[:6]}) == 1
    # a later repost joins the same story
    later = validate_batch([{"source": "weibo", "external_id": "r9", "channel": "weibo",
                             "text": f"转发微博 //@某人: {original}"}], CFG.channels)[0]
    handlers.ingest(uow(), later, cfg=CFG, scorer=SCORER, now=NOW + timedelta(minutes=1))
    with uow() as u:
        assert sorted(u.session.execute(select(db.stories.c.mention_count)).scalars()) == [1, 7]


def test_incident_escalates_subsides_and_closes_on_sweeps(uow):
    handlers.ingest(uow(), mentions(12), cfg=CFG, scorer=SCORER, now=NOW)
    up = handlers.ingest(uow(), mentions(20, prefix="b"), cfg=CFG, scorer=SCORER,
                         now=NOW + timedelta(minutes=1))
    assert [i["status"] for i in up["incidents"]] == ["escalated"]
    assert handlers.sweep(uow(), CFG, NOW + timedelta(minutes=5)) == []
    [sub] = handlers.sweep(uow(), CFG, NOW + timedelta(minutes=12))
    assert sub["event"] == "subsided"
    [closed] = handlers.sweep(uow(), CFG, NOW + timedelta(minutes=12 + 31))
    assert closed["event"] == "closed"
    types = [e["type"].rsplit(".", 1)[1] for e in events(uow)]
    assert types == ["detected", "escalated", "subsided", "closed"]
    assert events(uow)[-1]["payload"]["peak_level"] == "III"
    # cool-down: a new burst right after the close does not open a new incident
    again = handlers.ingest(uow(), mentions(15, prefix="c"), cfg=CFG, scorer=SCORER,
                            now=NOW + timedelta(minutes=45))
    assert again["incidents"] == []


def test_old_mentions_update_aggregates_but_raise_no_alarm(uow):
    old = mentions(30, published_at=(NOW - timedelta(days=3)).isoformat())
    assert handlers.ingest(uow(), old, cfg=CFG, scorer=SCORER, now=NOW)["incidents"] == []
    report = build(uow(), "daily", (NOW - timedelta(days=3)).date().isoformat())
    assert report["topics"][0] == {"topic": "#noise", "volume": 30, "negative": 30,
                                   "positive": 0, "neutral": 0, "negative_ratio": 1.0,
                                   "negative_ratio_by_reach": 1.0}


def test_purge_drops_raw_text_and_pseudonym_but_keeps_aggregates(uow):
    old_burst = NOW - timedelta(days=100)
    handlers.ingest(uow(), mentions(12, prefix="o", published_at=old_burst.isoformat()), cfg=CFG,
                    scorer=SCORER, now=old_burst)  # an incident back then, with evidence
    handlers.ingest(uow(), mentions(3, published_at=(NOW - timedelta(days=100)).isoformat()),
                    cfg=CFG, scorer=SCORER, now=NOW)
    handlers.ingest(uow(), mentions(2, prefix="new"), cfg=CFG, scorer=SCORER, now=NOW)
    assert handlers.purge_expired(uow(), 90, NOW) == 15
    assert handlers.purge_expired(uow(), 90, NOW) == 0
    with uow() as u:
        rows = u.session.execute(select(db.mentions).order_by(db.mentions.c.id)).mappings().all()
        [evidence] = u.session.execute(select(db.incidents.c.evidence)).scalars().all()
    assert [r["text"] is None for r in rows] == [True] * 15 + [False, False]
    assert all(r["author_hash"] is None for r in rows[:15]) and rows[0]["label"] == "negative"
    assert {m["excerpt"] for m in json.loads(evidence)["top_mentions"]} == {""}
    assert json.loads(evidence)["curve"]  # aggregates stay
    day = (NOW - timedelta(days=100)).date().isoformat()
    assert build(uow(), "daily", day)["topics"][0]["volume"] == 15


def test_daily_digest_renders_as_json_markdown_and_png(uow):
    handlers.ingest(uow(), mentions(12), cfg=CFG, scorer=SCORER, now=NOW)
    report = build(uow(), "daily", NOW.date().isoformat())
    assert report["totals"] == {"mentions": 12, "negative": 12}
    assert report["series"]["negative"][8] == 12, report["series"]
    assert report["incidents"][0]["outcome"] == "open"
    md = render(report, "md").decode()
    assert "| #noise | 12 | 12 |" in md and "一般" in md
    assert render(report, "png").startswith(b"\x89PNG")
    weekly = build(uow(), "weekly", "2026-W48")
    assert weekly["start"].startswith("2026-11-23") and weekly["totals"]["mentions"] == 12


def test_validation_reports_per_item_errors_and_checks_the_channel_vocabulary():
    valid, rejected = validate_batch([
        {"source": "mailbox", "channel": "deputy_mailbox", "url": "https://rd.example.cn/x/1",
         "text": "建议公开预算", "likes": 2, "comments": 3},
        {"source": "weibo", "channel": "tiktok", "external_id": "1", "text": "x"},
        {"source": "weibo", "text": "no id"}, "not an object"], CFG.channels)
    assert valid[0]["external_id"] == url_identity("https://rd.example.cn/x/1")  # no URL kept
    assert valid[0]["reach"] == 5
    assert [r["index"] for r in rejected] == [1, 2, 3]
    assert "channel" in rejected[0]["errors"] and "external_id" in rejected[1]["errors"]


def test_incident_events_carry_the_topics_human_name(uow):
    """v2: `topic_name` from topics.yaml travels with the incident (no consumer keeps a copy
    of the names or prints the code)."""
    named = replace(CFG, topic_names={**CFG.topic_names, "#noise": "噪声话题"})
    handlers.ingest(uow(), mentions(12), cfg=named, scorer=SCORER, now=NOW)
    [ev] = events(uow)
    assert ev["version"] == 2
    assert (ev["payload"]["topic"], ev["payload"]["topic_name"]) == ("#noise", "噪声话题")
