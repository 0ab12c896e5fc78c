"""Fold a linear model over fastText's input features into a dimension-1 fastText model file.

fastText's supervised prediction for a line is ``softmax(B · mean(A[rows]))`` where ``rows`` are
the line's input rows (features.py). With dimension 1 and the output matrix set to +1/2 for the
positive label and -1/2 for the negative one, the log-odds of "positive" are exactly
``mean(A[rows])``, i.e. ``w · (counts / counts.sum())`` for ``A = w``. A constant added to every
row of ``A`` adds that constant to the mean, so an intercept folds too. Any model that is linear in
the averaged counts — a logistic regression, an NB-weighted one, lexicon counts, a linear stacker
over them, a temperature — becomes one fastText file, scored at fastText's speed.

fastText's training is only used to make the model's dictionary (the vocabulary and the hashing
settings); it runs in a fresh interpreter (``in_fresh_process``): the fasttext wheel can raise
"Encountered NaN" when it trains in a process that has already loaded data.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from services.sentiment.model.features import EOS, WORD_NGRAMS
from services.sentiment.model.scorer import NEGATIVE, POSITIVE

SKELETON_SEED = 20261127


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:  # noqa: ANN401
    """`function(*args)` in a new Python interpreter (spawned, not forked); returns its result."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def _train_skeleton(vocabulary: list[str], bucket: int, out: str) -> list[str]:
    """(In a fresh process.) A dimension-1 fastText model whose dictionary holds `vocabulary`;
    returns the dictionary's words in row order."""
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vocabulary.txt"
        path.write_text(f"{NEGATIVE} {' '.join(vocabulary)}\n{POSITIVE} {vocabulary[0]}\n",
                        encoding="utf-8")
        model = fasttext.train_supervised(
            input=str(path), dim=1, wordNgrams=WORD_NGRAMS, bucket=bucket, epoch=0, lr=0.01,
            minCount=1, thread=1, seed=SKELETON_SEED, verbose=0,
        )
    model.save_model(out)
    return list(model.words)


def make_skeleton(vocabulary: Sequence[str], bucket: int, out: Path) -> list[str]:
    """Write a skeleton model for `vocabulary` to `out` (in a fresh process); returns its words in
    row order (``</s>`` included), the order the folded weights must follow."""
    words = [w for w in dict.fromkeys(vocabulary) if w and w != EOS]
    if not words:
        raise ValueError("an empty vocabulary")
    return in_fresh_process(_train_skeleton, words, bucket, str(out))


def fold(skeleton: Path, weights: np.ndarray, intercept: float, out: Path) -> Path:
    """Write `skeleton` with input rows ``weights + intercept`` and the +-1/2 output rows to `out`,
    so that the model's log-odds of positive equal ``weights · averaged_counts + intercept``."""
    import fasttext

    fasttext.FastText.eprint = lambda *args, **kwargs: None
    model = fasttext.load_model(str(skeleton))
    rows = model.get_input_matrix().shape[0]
    if weights.shape != (rows,):
        raise ValueError(f"weights must have {rows} entries (vocabulary + bucket)")
    output = np.array([[0.5] if label == POSITIVE else [-0.5] for label in model.labels])
    model.set_matrices((weights + intercept).reshape(-1, 1), output)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out))
    return out
