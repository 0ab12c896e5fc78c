"""The shipped scorer: fastText linear models over character n-grams, loaded once per process.

Two models: a general one (all corpora, Weibo posts with and without their emoticon tags; in v2 a
stack of logistic regressions and lexicon counts folded into a dimension-1 fastText file, see
stack.py and folding.py) and an emoticon expert (Weibo posts only). Texts carrying
``[emoticon]`` tags get the expert's log-odds blended with the general model's
(``EXPERT_WEIGHT``); plain texts get the general model alone, so the expert's reliance on
emoticons never decides a text without them. The blended log-odds are
divided by the temperature fitted at training time (``sentiment.json``), see calibration.py.

One text is scored by fastText itself; a batch by the same models evaluated in numpy
(batch_scoring.py), which gives fastText's numbers for a whole batch at once.
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from pathlib import Path

import fasttext
import numpy as np

from services.sentiment.model.batch_scoring import BatchModel, code_point_hashes
from services.sentiment.model.calibration import EPS, logits, sigmoid
from services.sentiment.model.text import EMOTICON_TAG, character_codes, characters

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
    return fasttext.load_model(str(path))


@lru_cache(maxsize=1)
def _hashes() -> np.ndarray:
    return code_point_hashes()


def _sidecar_temperature(path: Path) -> float:
    sidecar = path.with_suffix(".json")
    if not sidecar.is_file():
        return 1.0
    return float(json.loads(sidecar.read_text(encoding="utf-8")).get("temperature", 1.0))


class Scorer:
    """Probability that a text is positive. Safe to share between threads (read-only models)."""

    def __init__(self, path: str | os.PathLike[str], temperature: float | None = None,
                 use_expert: bool = True) -> None:
        """`use_expert=False` scores with the general model alone (as folded, for training)."""
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"sentiment model not found: {self.path}")
        general = _load(self.path)
        self._general = general.f  # the C++ object: no numpy wrapping on the one-text path
        self._general_batch = BatchModel.from_fasttext(general, _hashes())
        expert_file = expert_path(self.path)
        expert = _load(expert_file) if use_expert and expert_file.is_file() else None
        self._expert = expert.f if expert is not None else None
        self._expert_batch = BatchModel.from_fasttext(expert, _hashes()) if expert else None
        self.size_bytes = self.path.stat().st_size + (
            expert_file.stat().st_size if self._expert else 0)
        self.temperature = _sidecar_temperature(self.path) if temperature is None else temperature

    def score(self, text: str) -> float:
        """Probability that one text is positive (0..1); 0.5 for an empty text."""
        prepared = characters(text)
        if not prepared:
            return 0.5
        line = " ".join(prepared) + "\n"
        z = _logit(_one(self._general, line))
        if self._expert is not None and "[" in text and EMOTICON_TAG.search(text):
            z = EXPERT_WEIGHT * _logit(_one(self._expert, line)) + (1.0 - EXPERT_WEIGHT) * z
        return 1.0 / (1.0 + math.exp(-z / self.temperature))

    def predict_proba(self, texts: list[str]) -> list[float]:
        """Probabilities that each text is positive, in order (one numpy pass per model)."""
        if not texts:
            return []
        general = self._general_batch.positive(*character_codes(texts))
        empty = np.isnan(general)
        z = logits(np.where(empty, 0.5, general))
        if self._expert_batch is not None:
            tagged = [i for i, t in enumerate(texts)
                      if not empty[i] and "[" in t and EMOTICON_TAG.search(t)]
            if tagged:
                codes = character_codes([texts[i] for i in tagged])
                expert = logits(self._expert_batch.positive(*codes))
                z[tagged] = EXPERT_WEIGHT * expert + (1.0 - EXPERT_WEIGHT) * z[tagged]
        probs = sigmoid(z / self.temperature)
        probs[empty] = 0.5
        return probs.tolist()


def _one(model, line: str) -> float:  # noqa: ANN001
    result = model.predict(line, 1, 0.0, "replace")
    return _positive(*result[0]) if result else 0.5


def _positive(prob: float, label: str) -> float:
    prob = min(max(float(prob), 0.0), 1.0)
    return prob if label == POSITIVE else 1.0 - prob


def _logit(p: float) -> float:
    p = min(max(p, EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))
