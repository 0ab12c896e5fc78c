"""The labelled corpora and the fixed held-out splits used by training and evaluation.

Corpora (``../shared/data/sentiment/``, see its README): Weibo posts labelled by their emoticons,
online-shopping reviews in ten categories, hotel reviews. Splits, from a fixed seed:

- ``weibo``: 20 % of the Weibo posts, never trained on;
- ``weibo_stripped``: the same posts with their ``[emoticon]`` tags removed;
- ``unseen_domain_short``: reviews of at most 60 characters from the two smallest shopping
  categories (蒙牛 dairy, 热水器 water heaters), which are never trained on.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from services.sentiment.model.text import strip_emoticon_tags

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA_DIR = REPO_ROOT / ".." / "shared" / "data" / "sentiment"
WEIBO = "train_weibo_dev.csv"
SHOPPING = "online_shopping_10_cats.csv"
HOTEL = "ChnSentiCorp_htl_all.csv"
HELD_OUT_CATEGORIES = frozenset({"蒙牛", "热水器"})
SEED = 20261127
WEIBO_TEST_SHARE = 0.2
SHORT_CHARS = 60
POSITIVE_LABELS = frozenset({"1", "positive", "pos", "正面", "积极"})
NEGATIVE_LABELS = frozenset({"0", "negative", "neg", "负面", "消极"})

Example = tuple[int, str]


@dataclass
class Corpus:
    """Training examples and named held-out splits."""

    train: list[Example] = field(default_factory=list)
    splits: dict[str, list[Example]] = field(default_factory=dict)


def parse_label(raw: str) -> int:
    """1 for positive, 0 for negative; ValueError for anything else (neutral is not a label)."""
    value = raw.strip().lower()
    if value in POSITIVE_LABELS:
        return 1
    if value in NEGATIVE_LABELS:
        return 0
    raise ValueError(f"label must be 1/0 or positive/negative, got {raw!r}")


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def read_labelled(path: Path, text_column: str = "text") -> list[Example]:
    """`label,<text_column>` rows of a CSV; rows with an empty text are skipped."""
    out: list[Example] = []
    for line, row in enumerate(read_rows(path), start=2):
        text = (row.get(text_column) or "").strip()
        if not text:
            continue
        try:
            out.append((parse_label(row.get("label") or ""), text))
        except ValueError as exc:
            raise ValueError(f"{path}:{line}: {exc}") from None
    return out


def split_off(examples: list[Example], share: float) -> tuple[list[Example], list[Example]]:
    """(kept, held out): `share` of `examples` held out, chosen with the fixed seed."""
    shuffled = list(examples)
    random.Random(SEED).shuffle(shuffled)
    cut = int(len(shuffled) * share)
    return shuffled[cut:], shuffled[:cut]


def strip_tags(examples: Iterable[Example]) -> list[Example]:
    """The examples with emoticon tags removed; those left empty are dropped."""
    out = []
    for label, text in examples:
        stripped = strip_emoticon_tags(text).strip()
        if stripped:
            out.append((label, stripped))
    return out


def load_corpus(data_dir: Path = DEFAULT_DATA_DIR) -> Corpus:
    """Read whichever of the three corpora exist in `data_dir` and split them (fixed seed)."""
    corpus = Corpus()
    if (data_dir / WEIBO).is_file():
        train, test = split_off(read_labelled(data_dir / WEIBO), WEIBO_TEST_SHARE)
        corpus.splits["weibo"] = test
        corpus.splits["weibo_stripped"] = strip_tags(test)
        # Both the posts and their tag-stripped copies: the model must learn the words as well as
        # the emoticons, or it fails on plain text.
        corpus.train += train + strip_tags(train)
    unseen: list[Example] = []
    if (data_dir / SHOPPING).is_file():
        for row in read_rows(data_dir / SHOPPING):
            text = (row.get("review") or "").strip()
            if not text:
                continue
            example = (parse_label(row["label"]), text)
            if row.get("cat") in HELD_OUT_CATEGORIES:
                unseen.append(example)
            else:
                corpus.train.append(example)
    if (data_dir / HOTEL).is_file():
        corpus.train += read_labelled(data_dir / HOTEL, text_column="review")
    short = sorted({(lab, t) for lab, t in unseen if len(t) <= SHORT_CHARS})
    if short:
        corpus.splits["unseen_domain_short"] = short
    return corpus
