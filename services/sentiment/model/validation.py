"""A validation split carved out of the training data, for tuning without touching the final
held-out splits.

The final held-out splits (``data.load_corpus``: ``weibo``, ``weibo_stripped``,
``unseen_domain_short``) are for reporting once; settings are chosen on these instead:

- ``val_weibo``: 20 % of the Weibo posts that ``load_corpus`` trains on (its own seed);
- ``val_weibo_stripped``: the same posts with their ``[emoticon]`` tags removed;
- ``val_domain_short``: reviews of at most 60 characters from two shopping categories held out of
  training here (手机 phones, 书籍 books), which are different from the final unseen domains
  (the held-out and the untouched categories of data.py are left out here too).

``load_validation_corpus`` returns a ``Corpus`` whose ``train`` is what is left (Weibo posts with
and without their tags, the other shopping categories, hotel reviews), so training on it with
``python -m services.sentiment.model.train --validation`` reports the validation figures.
"""

from __future__ import annotations

import random
from pathlib import Path

from services.sentiment.model.data import (
    DEFAULT_DATA_DIR,
    HOTEL,
    NEVER_TRAINED,
    SHOPPING,
    WEIBO,
    WEIBO_TEST_SHARE,
    Corpus,
    Example,
    read_labelled,
    review_group,
    shopping_rows,
    short_texts,
    split_off,
    strip_tags,
    weibo_halves,
)

VALIDATION_SEED = 777  # the seed the issue-3 experiments (docs/model-card.md) used
VALIDATION_SHARE = 0.2
VALIDATION_CATEGORIES = frozenset({"手机", "书籍"})


def _carve(examples: list[Example], share: float) -> tuple[list[Example], list[Example]]:
    """(kept, validation): `share` of `examples`, chosen with the validation seed."""
    shuffled = list(examples)
    random.Random(VALIDATION_SEED).shuffle(shuffled)
    cut = int(len(shuffled) * share)
    return shuffled[cut:], shuffled[:cut]


def load_validation_corpus(data_dir: Path = DEFAULT_DATA_DIR) -> Corpus:
    """Training pool and validation splits, all inside what ``load_corpus`` trains on."""
    corpus = Corpus()
    if (data_dir / WEIBO).is_file():
        weibo_train, _final = split_off(read_labelled(data_dir / WEIBO), WEIBO_TEST_SHARE)
        train, val = _carve(weibo_train, VALIDATION_SHARE)
        corpus.splits["val_weibo"] = val
        corpus.splits["val_weibo_stripped"] = strip_tags(val)
        weibo_halves(corpus, train)
    domain: list[Example] = []
    if (data_dir / SHOPPING).is_file():
        for category, example in shopping_rows(data_dir):
            if category in NEVER_TRAINED:
                continue
            if category in VALIDATION_CATEGORIES:
                domain.append(example)
            else:
                corpus.add([example], review_group(category))
    if (data_dir / HOTEL).is_file():
        corpus.add(read_labelled(data_dir / HOTEL, text_column="review"), review_group("酒店"))
    if short := short_texts(domain):
        corpus.splits["val_domain_short"] = short
    return corpus
