"""Batched scoring in numpy gives fastText's own numbers, text for text, for both shipped models."""

import fasttext
import numpy as np
import pytest

from services.sentiment.model import MODEL_PATH, Scorer
from services.sentiment.model.batch_scoring import BatchModel, code_point_hashes
from services.sentiment.model.data import DEFAULT_DATA_DIR, load_corpus
from services.sentiment.model.features import fasttext_hash
from services.sentiment.model.scorer import POSITIVE, expert_path
from services.sentiment.model.text import character_codes, characters, tokens

TRICKY = ["办事效率很高，点赞[赞]", "拖了三个月没人管，太失望了[怒]", "Hello World 好", "x", "",
          "　", "服务态度差😡投诉也没回音", "@某人 转发微博 http://t.cn/abc 不满意", "ＡＢＣ全角",
          "é à ß",
          "tab\there\nnewline", "nul\0inside", "籁" * 400, "𠀀𠀁 rare ideographs", "[哈哈][哈哈]",
          "\ufeffbom", "不是不好", "!!!", "a\u0301 combining"]


@pytest.fixture(scope="module")
def hashes() -> np.ndarray:
    return code_point_hashes()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Every held-out text of the shared corpora when they are beside the repository, else the
    tricky ones alone (the comparison is exact either way)."""
    held_out = []
    if DEFAULT_DATA_DIR.is_dir():
        corpus = load_corpus(DEFAULT_DATA_DIR)
        held_out = [t for split in corpus.splits.values() for _, t in split]
    return TRICKY + held_out


def _fasttext_positive(model, lines: list[str]) -> np.ndarray:  # noqa: ANN001
    out = []
    for line in lines:
        labels, probs = model.predict(line)
        p = min(float(probs[0]), 1.0)
        out.append(p if labels[0] == POSITIVE else 1.0 - p)
    return np.array(out)


def test_code_point_hashes_are_fasttexts(hashes):
    for char in ["a", "!", "é", "好", "籁", "😡", "𠀀", "\u0301", "\x7f", "\u07ff", "\u0800",
                 "\uffff"]:
        expected = fasttext_hash(char)
        signed = expected - (1 << 32) if expected >= (1 << 31) else expected
        assert int(hashes[ord(char)]) == signed & 0xFFFFFFFFFFFFFFFF, char


@pytest.mark.parametrize("path", [MODEL_PATH, expert_path(MODEL_PATH)], ids=["general", "expert"])
def test_batch_model_reports_what_fasttext_reports(path, hashes, texts):
    model = fasttext.load_model(str(path))
    batch = BatchModel.from_fasttext(model, hashes)
    kept = [t for t in texts if characters(t)]
    expected = _fasttext_positive(model, [tokens(t) for t in kept])
    got = batch.positive(*character_codes(kept))
    assert np.max(np.abs(got - expected)) < 1e-5
    empty = np.isnan(batch.positive(*character_codes(["", "好", "　"])))
    assert empty.tolist() == [True, False, True]


def test_a_batch_scores_as_texts_one_at_a_time(texts):
    scorer = Scorer(MODEL_PATH)
    sample = texts[:3000]
    batched = np.array(scorer.predict_proba(sample))
    single = np.array([scorer.score(t) for t in sample])
    assert np.max(np.abs(batched - single)) < 1e-4
    assert scorer.predict_proba(["", "　"]) == [0.5, 0.5]


def test_tokens_are_the_characters_spaced():
    assert tokens("ＡＢ c好") == "a b c 好"
    assert characters("nul\0inside") == "nulinside"


def test_character_codes_are_the_characters(texts):
    codes, lengths = character_codes(texts)
    assert "".join(map(chr, codes.tolist())) == "".join(characters(t) for t in texts)
    assert lengths.tolist() == [len(characters(t)) for t in texts]
