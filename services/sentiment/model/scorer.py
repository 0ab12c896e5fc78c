"""The shipped scorer: fastText linear models over character n-grams, loaded once per process.

Two models: a general one (all corpora, Weibo posts with and without their emoticon tags; in v2 a
stack of logistic regressions and lexicon counts folded into a dimension-1 fastText file, see
stack.py and folding.py) and an emoticon expert (Weibo posts only). Texts carrying
``[emoticon]`` tags get the expert's log-odds blended with the general model's
(``EXPERT_WEIGHT``); plain texts get the general model alone, so the expert's reliance on
emoticons never decides a text without them. The blended log-odds are
divided by the temperature fitted at training time (``sentiment.json``), see calibration.py.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import fasttext
import numpy as np

from services.sentiment.model.calibration import EPS, logits, sigmoid
from services.sentiment.model.text import EMOTICON_TAG, tokens

MODEL_PATH = Path(__file__).with_name("sentiment.ftz")
EXPERT_SUFFIX = ".emoticons"
POSITIVE = "__label__1"
NEGATIVE = "__label__0"
EXPERT_WEIGHT = 0.7


def expert_path(path: str | os.PathLike[str]) -> Path:
    """Where the emoticon expert of model `path` lives (``sentiment.emoticons.ftz``)."""
    path = Path(path)
    return path.with_name(path.stem + EXPERT_SUFFIX + path.suffix)


def _load(path: Path):  # noqa: ANN202 - fasttext has no type hints
    fasttext.FastText.eprint = lambda *args, **kwargs: None  # silence the load warning
    return fasttext.load_model(str(path)).f  # the C++ object: no numpy wrapping on the hot path


def _sidecar_temperature(path: Path) -> float:
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return 1.0
    return float(json.loads(sidecar.read_text(encoding="utf-8")).get("temperature", 1.0))


class Scorer:
    """Probability that a text is positive. Safe to share between threads (read-only models)."""

    def __init__(self, path: str | os.PathLike[str], temperature: float | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"sentiment model not found: {self.path}")
        self._general = _load(self.path)
        expert = expert_path(self.path)
        self._expert = _load(expert) if expert.is_file() else None
        self.size_bytes = self.path.stat().st_size + (expert.stat().st_size if self._expert else 0)
        self.temperature = _sidecar_temperature(self.path) if temperature is None else temperature

    def score(self, text: str) -> float:
        """Probability that one text is positive (0..1); 0.5 for an empty text."""
        prepared = tokens(text)
        if not prepared:
            return 0.5
        line = prepared + "\n"
        z = _logit(_one(self._general, line))
        if self._expert is not None and "[" in text and EMOTICON_TAG.search(text):
            z = EXPERT_WEIGHT * _logit(_one(self._expert, line)) + (1.0 - EXPERT_WEIGHT) * z
        return 1.0 / (1.0 + math.exp(-z / self.temperature))

    def predict_proba(self, texts: list[str]) -> list[float]:
        """Probabilities that each text is positive, in order (batched calls into fastText)."""
        if not texts:
            return []
        lines = [tokens(t) + "\n" for t in texts]
        z = logits(_many(self._general, lines))
        if self._expert is not None:
            tagged = [i for i, t in enumerate(texts) if "[" in t and EMOTICON_TAG.search(t)]
            if tagged:
                expert = logits(_many(self._expert, [lines[i] for i in tagged]))
                z[tagged] = EXPERT_WEIGHT * expert + (1.0 - EXPERT_WEIGHT) * z[tagged]
        probs = sigmoid(z / self.temperature)
        probs[[i for i, line in enumerate(lines) if len(line) == 1]] = 0.5
        return probs.tolist()


def _one(model, line: str) -> float:  # noqa: ANN001
    result = model.predict(line, 1, 0.0, "replace")
    return _positive(*result[0]) if result else 0.5


def _many(model, lines: list[str]) -> np.ndarray:  # noqa: ANN001
    labels, probs = model.multilinePredict(lines, 1, 0.0, "replace")
    if not all(labels):  # an empty line has no prediction
        return np.array([_positive(p[0], lab[0]) if lab else 0.5
                         for p, lab in zip(probs, labels, strict=True)])
    top = np.clip(np.concatenate(probs), 0.0, 1.0)
    positive = np.fromiter((lab[0] == POSITIVE for lab in labels), dtype=bool, count=len(labels))
    return np.where(positive, top, 1.0 - top)


def _positive(prob: float, label: str) -> float:
    prob = min(max(float(prob), 0.0), 1.0)
    return prob if label == POSITIVE else 1.0 - prob


def _logit(p: float) -> float:
    p = min(max(p, EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))
