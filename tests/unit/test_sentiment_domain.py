from services.sentiment import domain


def test_placeholder_scorer_separates_obvious_cases():
    s = domain.LexiconScorer()
    assert domain.label(s.score("回复敷衍，不作为，太失望")) == "negative"
    assert domain.label(s.score("点赞，高效透明，感谢")) == "positive"
    assert [domain.label(p) for p in s.predict_proba(["今天开会"])] == ["neutral"]


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


def test_reposts_are_near_duplicates_and_other_texts_are_not():
    original = "反映的小区夜间施工噪音问题一直没人管，回复敷衍，太失望了"
    repost = f"//@张三: {original} [怒] #噪音# https://t.cn/abc"
    other = "今天人大常委会审议了预算草案，代表们认真发言"
    a, b, c = domain.simhashes([original, repost, other])
    assert domain.near_duplicate(a, b)
    assert not domain.near_duplicate(a, c)
    assert domain.simhash(original) == a
    assert set(domain.bands(a)) & set(domain.bands(b))


def test_signed_storage_round_trips():
    for h in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        s = domain.to_signed64(h)
        assert -(1 << 63) <= s < 1 << 63
        assert domain.from_signed64(s) == h
