from services.sentiment import domain

RULE = domain.DetectionRule(window_minutes=10, min_negative=5, min_negative_ratio=0.6,
                            levels={"IV": 5, "III": 20, "II": 50, "I": 100})


def test_placeholder_scorer_separates_obvious_cases():
    assert domain.label(domain.score("回复敷衍，不作为，太失望")) == "negative"
    assert domain.label(domain.score("点赞，高效透明，感谢")) == "positive"
    assert domain.label(domain.score("今天开会")) == "neutral"


def test_burst_levels_follow_thresholds():
    assert RULE.level_for(4, 4) is None
    assert RULE.level_for(5, 6) == "IV"
    assert RULE.level_for(5, 20) is None  # ratio too low
    assert RULE.level_for(25, 30) == "III"
    assert RULE.level_for(120, 150) == "I"


def test_subsiding_needs_clearly_lower_volume():
    assert RULE.subsided(1, 10)
    assert not RULE.subsided(5, 6)


def test_topics_include_configured_matches_and_hashtags():
    topics = {"budget": ["预算"], "office": ["人大"]}
    assert domain.topics_of("人大预算公开", topics) == ["budget", "office"]
    assert domain.topics_of("#小区噪音# 没人管", topics) == ["#小区噪音"]
    assert domain.topics_of("随便说说", topics) == ["office"]


def test_pseudonyms_are_keyed_and_stable():
    a = domain.pseudonymise("@Someone", b"k1")
    assert a == domain.pseudonymise("@someone ", b"k1")
    assert a != domain.pseudonymise("@someone", b"k2")
    assert "someone" not in a
