"""The shipped sentiment model: interface, shapes, labels, obvious plain-text cases."""

import time

import pytest

from services.sentiment.model import (
    MODEL_PATH,
    NEGATIVE_BELOW,
    POSITIVE_ABOVE,
    Scorer,
    label_of,
    load_scorer,
)
from services.sentiment.model.scorer import expert_path
from services.sentiment.model.text import strip_emoticon_tags, tokens

POSITIVE = ["服务态度很好，非常满意", "办事效率很高，给工作人员点赞",
            "问题很快就解决了，感谢代表的帮助", "环境干净，质量不错，值得推荐"]
NEGATIVE = ["太差了，再也不会来了", "拖了三个月没人管，非常失望", "态度恶劣，敷衍了事",
            "质量很差，完全是浪费钱"]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return load_scorer()


def test_shipped_model_is_small_and_loads_fast():
    assert MODEL_PATH.stat().st_size + expert_path(MODEL_PATH).stat().st_size <= 20 * 2**20
    started = time.perf_counter()
    Scorer(MODEL_PATH)
    assert time.perf_counter() - started < 1.0


def test_load_scorer_is_cached(scorer):
    assert load_scorer() is scorer
    assert load_scorer(str(MODEL_PATH)) is scorer


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="sentiment model not found"):
        Scorer(tmp_path / "nope.ftz")


def test_batches_keep_shape_order_and_range(scorer):
    texts = POSITIVE + NEGATIVE + ["", "   ", "今天下午召开常委会会议"]
    probs = scorer.predict_proba(texts)
    assert len(probs) == len(texts)
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in probs)
    assert probs[len(POSITIVE) + len(NEGATIVE):][:2] == [0.5, 0.5]  # nothing to judge: neutral
    assert scorer.predict_proba([]) == []
    assert scorer.predict_proba(list(reversed(texts))) == pytest.approx(list(reversed(probs)))


def test_one_text_matches_the_batch(scorer):
    texts = POSITIVE + NEGATIVE + ["开心[哈哈]", "[泪]又加班"]
    assert [scorer.score(t) for t in texts] == pytest.approx(scorer.predict_proba(texts), abs=1e-6)


@pytest.mark.parametrize("text", POSITIVE)
def test_plain_positive_text_is_positive(scorer, text):
    assert label_of(scorer.score(text)) == "positive"


@pytest.mark.parametrize("text", NEGATIVE)
def test_plain_negative_text_is_negative(scorer, text):
    assert label_of(scorer.score(text)) == "negative"


def test_emoticons_still_count_on_weibo_posts(scorer):
    assert scorer.score("终于放假了[哈哈][哈哈]") > 0.6
    assert scorer.score("又被堵在路上了[泪][抓狂]") < 0.4


def test_label_thresholds():
    assert (NEGATIVE_BELOW, POSITIVE_ABOVE) == (0.4, 0.6)
    assert label_of(0.0) == label_of(0.399) == "negative"
    assert label_of(0.4) == label_of(0.5) == label_of(0.6) == "neutral"
    assert label_of(0.601) == label_of(1.0) == "positive"
    assert label_of(0.3, negative_below=0.2, positive_above=0.8) == "neutral"


def test_tokens_normalise_width_case_handles_and_links():
    assert tokens("\ufeffＡＢｃ，好！") == "a b c , 好 !"
    assert tokens("回复@某人:说得好 http://t.cn/abc") == ": 说 得 好"
    assert tokens("  \n ") == ""
    assert strip_emoticon_tags("好[哈哈]呀[心]") == "好呀"
