"""The v2 general model is a linear stack folded into a dimension-1 fastText file: the file's one
prediction must equal the stack's score (features.py reproduces fastText's input rows)."""

import math
from pathlib import Path

import fasttext
import numpy as np
import pytest

from services.sentiment.model import MODEL_PATH
from services.sentiment.model.features import Featurizer, averaged, fasttext_hash
from services.sentiment.model.folding import fold, make_skeleton
from services.sentiment.model.lexicon import Lexicon, lexicon_directions
from services.sentiment.model.scorer import Scorer
from services.sentiment.model.stack import StackParams, fit_stack
from services.sentiment.model.text import tokens

SAMPLES = ["办事效率很高，点赞[赞]", "拖了三个月没人管，太失望了", "今天下午召开常委会会议",
           "Hello World 好", "x", "服务态度差😡投诉也没回音",
           "@某人 转发微博 http://t.cn/abc 不满意",
           "不是不好", "ＡＢＣ全角", "　", ""]
BUCKET = 50_000


def _general(path: Path) -> Scorer:
    scorer = Scorer(path, temperature=1.0, use_expert=False)
    return scorer


@pytest.fixture(scope="module")
def skeleton(tmp_path_factory) -> tuple[Path, Featurizer]:
    path = tmp_path_factory.mktemp("fold") / "skeleton.bin"
    vocabulary = sorted({c for t in SAMPLES[:4] + ["满意好差"] for c in tokens(t).split()})
    return path, Featurizer(make_skeleton(vocabulary, BUCKET, path), BUCKET)


def test_hash_is_fasttexts():
    # fastText 0.9.2 Dictionary::hash (FNV-1a over bytes sign-extended as int8)
    assert fasttext_hash("") == 2166136261
    assert fasttext_hash("a") == 0xE40C292C
    assert fasttext_hash("好") != fasttext_hash("差")


def test_folded_file_predicts_the_linear_score(skeleton, tmp_path):
    path, featurizer = skeleton
    weights = np.random.default_rng(3).normal(0, 2, featurizer.dimension)
    folded = fold(path, weights, -0.4, tmp_path / "folded.ftz")
    expected = 1 / (1 + np.exp(-(averaged(featurizer.counts(SAMPLES)) @ weights - 0.4)))
    got = _general(folded).predict_proba(SAMPLES)
    for text, p, q in zip(SAMPLES, got, expected, strict=True):
        assert p == pytest.approx(0.5 if not tokens(text) else q, abs=1e-4), text


def test_a_trained_stack_folds_exactly(skeleton, tmp_path):
    path, featurizer = skeleton
    rng = np.random.default_rng(5)
    texts, labels, groups = [], [], []
    for i in range(240):
        label = i % 2
        words = ("满意", "好") if label else ("差", "不满意")
        texts.append("".join(rng.choice(["今天", "会议", "办事"]) + rng.choice(words)
                             for _ in range(3)))
        labels.append(label)
        groups.append(["a", "b", "c"][i % 3])
    x = averaged(featurizer.counts(texts)).tocsr()
    lexicon = Lexicon(frozenset({"满意", "好"}), frozenset({"差"}), frozenset({"不"}))
    stack, report = fit_stack(x, np.array(labels), np.array(groups), StackParams(epochs=3),
                              lexicon_directions(lexicon, featurizer))
    assert set(report["stacker"]) == {"lr", "nb", "lexicon_positive", "lexicon_negative"}
    folded = _general(fold(path, stack.weights, stack.intercept, tmp_path / "stack.ftz"))
    sample = texts[:20] + SAMPLES
    expected = 1 / (1 + np.exp(-stack.logits(averaged(featurizer.counts(sample)).tocsr())))
    got = folded.predict_proba(sample)
    assert got == pytest.approx([q if tokens(t) else 0.5 for t, q in zip(sample, expected,
                                                                         strict=True)], abs=1e-4)
    assert folded.score("满意满意好") > 0.5 > folded.score("差差不满意")


def test_negation_moves_a_lexicon_word_to_the_other_polarity(skeleton):
    _, featurizer = skeleton
    lexicon = Lexicon(frozenset({"满意"}), frozenset({"差"}), frozenset({"不"}))
    directions = lexicon_directions(lexicon, featurizer)
    counts = featurizer.counts(["很满意", "不满意", "差", "满意满意"]).toarray() @ directions
    assert counts.tolist() == [[1, 0], [0, 1], [0, 1], [2, 0]]


def test_shipped_model_is_a_folded_linear_model():
    model = fasttext.load_model(str(MODEL_PATH))
    assert model.get_dimension() == 1
    featurizer = Featurizer(model.words, model.f.getArgs().bucket)
    weights = model.get_input_matrix()[:, 0].astype(float)
    general = _general(MODEL_PATH)
    texts = [t for t in SAMPLES if tokens(t)]
    z = averaged(featurizer.counts(texts)) @ weights
    expected = [1 / (1 + math.exp(-v)) for v in z]
    assert general.predict_proba(texts) == pytest.approx(expected, abs=1e-4)
