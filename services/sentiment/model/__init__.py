"""Offline Chinese sentiment model shipped inside the package.

    from services.sentiment.model import load_scorer, label_of
    scorer = load_scorer()
    p = scorer.score("办事效率很高，点赞")      # probability positive, 0..1
    ps = scorer.predict_proba(["...", "..."])  # batched
    label_of(p)                                # "negative" | "neutral" | "positive"

See docs/model-card.md for data, method and figures; `make train-sentiment` retrains it.
"""

from __future__ import annotations

from functools import lru_cache

from services.sentiment.model.scorer import MODEL_PATH, Scorer

NEGATIVE_BELOW = 0.4
"""A score below this is "negative"."""
POSITIVE_ABOVE = 0.6
"""A score above this is "positive"; scores in [NEGATIVE_BELOW, POSITIVE_ABOVE] are "neutral"."""

__all__ = ["MODEL_PATH", "NEGATIVE_BELOW", "POSITIVE_ABOVE", "Scorer", "label_of", "load_scorer"]


def label_of(p: float, negative_below: float = NEGATIVE_BELOW,
             positive_above: float = POSITIVE_ABOVE) -> str:
    """Label of a positive-probability: negative < 0.4 <= neutral <= 0.6 < positive."""
    if p < negative_below:
        return "negative"
    if p > positive_above:
        return "positive"
    return "neutral"


@lru_cache(maxsize=8)
def _load(path: str) -> Scorer:
    return Scorer(path)


def load_scorer(path: str | None = None) -> Scorer:
    """The scorer for `path` (default: the shipped model), loaded once per process and cached."""
    return _load(str(path or MODEL_PATH))
