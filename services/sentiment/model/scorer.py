"""The shipped scorer: a fastText linear model over character n-grams, loaded once per process."""

from __future__ import annotations

import os
from pathlib import Path

import fasttext

from services.sentiment.model.text import tokens

MODEL_PATH = Path(__file__).with_name("sentiment.ftz")
POSITIVE = "__label__1"
NEGATIVE = "__label__0"


class Scorer:
    """Probability that a text is positive. Thread-safe for prediction (fastText is read-only)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"sentiment model not found: {self.path}")
        fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load warning
        self._model = fasttext.load_model(str(self.path))
        self._f = self._model.f  # the C++ object: skips the numpy wrapping on the hot path

    def score(self, text: str) -> float:
        """Probability that one text is positive (0..1)."""
        prepared = tokens(text)
        if not prepared:
            return 0.5
        result = self._f.predict(prepared + "\n", 1, 0.0, "replace")
        if not result:
            return 0.5
        prob, label = result[0]
        return _positive(prob, label)

    def predict_proba(self, texts: list[str]) -> list[float]:
        """Probabilities that each text is positive, in order (one batched call into fastText)."""
        if not texts:
            return []
        batch = [tokens(t) + "\n" for t in texts]
        labels, probs = self._f.multilinePredict(batch, 1, 0.0, "replace")
        return [
            _positive(p[0], lab[0]) if lab and len(line) > 1 else 0.5
            for line, p, lab in zip(batch, probs, labels, strict=True)
        ]


def _positive(prob: float, label: str) -> float:
    prob = min(max(float(prob), 0.0), 1.0)
    return prob if label == POSITIVE else 1.0 - prob
