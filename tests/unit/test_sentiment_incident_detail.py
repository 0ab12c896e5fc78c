"""An incident's detail for the console: evidence, curve, the topic's human name and the level
history recorded at each lifecycle event."""

from collections import Counter
from datetime import timedelta

import pytest
from marshmallow import ValidationError

from services.sentiment import config, handlers
from tests.unit.test_sentiment_handlers import CFG, NOW, SCORER, mentions


@pytest.fixture
def uow(uow_factory):
    return uow_factory("sentiment")


def test_the_level_history_follows_every_lifecycle_event(uow):
    handlers.ingest(uow(), mentions(12), cfg=CFG, scorer=SCORER, now=NOW)
    handlers.ingest(uow(), mentions(20, prefix="b"), cfg=CFG, scorer=SCORER,
                    now=NOW + timedelta(minutes=1))
    handlers.sweep(uow(), CFG, NOW + timedelta(minutes=12))
    handlers.sweep(uow(), CFG, NOW + timedelta(minutes=12 + 31))
    [listed] = handlers.list_incidents(uow())
    incident = handlers.get_incident(uow(), listed["id"])
    history = incident["history"]
    assert [h["event"] for h in history] == ["detected", "escalated", "subsided", "closed"]
    assert [h["level"] for h in history][:2] == ["IV", "III"]
    assert history[0]["negative_count"] == 12
    assert incident["evidence"]["curve"] and incident["evidence"]["top_mentions"]
    with pytest.raises(handlers.IncidentNotFound):
        handlers.get_incident(uow(), "inc-nope")


def test_topics_have_human_names_and_hashtags_name_themselves():
    cfg = config.load()
    assert cfg.topic_name("legislation") == "立法工作"
    assert cfg.topic_name("#某街道停车难#") == "#某街道停车难#"


def test_a_human_name_for_an_unknown_topic_is_refused(tmp_path):
    text = (config.HERE / "topics.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "topics.yaml"
    bad.write_text(text.replace("  office: 人大机关", "  offices: 人大机关"), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown topics"):
        config.load(str(bad))


def test_the_admin_views_of_plans_and_workflows_say_where_they_are_configured():
    from services.liaison import config as liaison_config
    from services.liaison import configuration_view
    from services.review import config as review_config
    from services.review.service import _workflow_view

    plan = configuration_view.plan(liaison_config.load())
    assert [lv["level"] for lv in plan["levels"]] == ["IV", "III", "II", "I"]
    assert plan["levels"][0]["deadlines"]["acknowledge"] == 60
    assert plan["configured_in"]["plans"]["file"].endswith("plans.yaml")
    expedited = _workflow_view(review_config.load().workflows["expedited"])
    assert expedited["deadline_seconds"] == {"section_head": 1800, "leader_in_charge": 1800,
                                             "principal": 3600}
    assert review_config.sources()["workflows"]["variable"] == "REVIEW_CONFIG"


def test_the_list_can_leave_the_evidence_out_and_be_limited(uow):
    handlers.ingest(uow(), mentions(12), cfg=CFG, scorer=SCORER, now=NOW)
    handlers.ingest(uow(), mentions(12, tag="other", prefix="o"), cfg=CFG, scorer=SCORER,
                    now=NOW + timedelta(minutes=1))
    assert len(handlers.list_incidents(uow())) == 2
    [light] = handlers.list_incidents(uow(), evidence=False, limit=1)
    assert "evidence" not in light and light["topic"].startswith("#other")
    from services.sentiment.schemas import IncidentQuerySchema
    assert IncidentQuerySchema().load({"evidence": "false", "limit": "5"}) == {
        "status": None, "level": None, "evidence": False, "limit": 5, "offset": 0}


def test_the_list_takes_several_statuses_a_level_and_a_page_and_counts_by_level(uow):
    handlers.ingest(uow(), mentions(12), cfg=CFG, scorer=SCORER, now=NOW)
    handlers.ingest(uow(), mentions(12, tag="other", prefix="o"), cfg=CFG, scorer=SCORER,
                    now=NOW + timedelta(minutes=1))
    both = handlers.list_incidents(uow(), "detected,escalated,subsiding", evidence=False)
    assert len(both) == 2
    [second] = handlers.list_incidents(uow(), "detected,escalated", evidence=False, limit=1,
                                       offset=1)
    assert second["id"] == both[1]["id"]
    level = both[0]["level"]
    assert handlers.count_incidents(uow(), "detected,escalated,subsiding") == \
        Counter(i["level"] for i in both)
    assert handlers.count_incidents(uow(), "closed") == {}
    assert all(i["level"] == level for i in handlers.list_incidents(uow(), level=level))
    assert sum(handlers.count_incidents(uow(), None, level).values()) == len(
        handlers.list_incidents(uow(), level=level))
    from services.sentiment.schemas import IncidentQuerySchema
    with pytest.raises(ValidationError):
        IncidentQuerySchema().load({"status": "detected,nonsense"})
