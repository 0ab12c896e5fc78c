"""Sentiment rules, pure: the scorer seam, labels, topics, pseudonyms, near-duplicate hashing.

The burst detector lives beside it in `detection.py` (pure as well). The lexicon scorer here is
the fallback used until the trained model (`services.sentiment.model`) is importable.
"""

from __future__ import annotations

import re
from typing import Protocol

import numpy as np

from civicpulse.pseudonyms import pseudonymise  # noqa: F401 - the mention authors' pseudonyms

NEGATIVE_WORDS = (
    "不满", "失望", "愤怒", "质疑", "敷衍", "投诉", "差", "糟糕", "拖延", "不作为", "黑幕", "腐败",
    "欺骗", "垃圾", "抗议", "举报", "不公", "乱", "恶劣", "问题", "没人管", "推诿",
)
POSITIVE_WORDS = (
    "满意", "点赞", "支持", "感谢", "好", "高效", "认真", "负责", "公开", "透明", "及时", "赞",
)
LEVEL_ORDER = ("IV", "III", "II", "I")
LEVEL_NAMES = {"IV": "一般", "III": "较大", "II": "重大", "I": "特别重大"}
ADMIN_ROLES = frozenset({"admin"})


def may_manage_collectors(role: str | None) -> bool:
    """Collector credentials (GET /collectors) are for administrators only."""
    return role in ADMIN_ROLES


class Scorer(Protocol):
    """What the service needs of a sentiment model: probability that a text is positive."""

    def predict_proba(self, texts: list[str]) -> list[float]: ...

    def score(self, text: str) -> float: ...


def score(text: str) -> float:
    """Probability-like score that `text` is positive (placeholder lexicon scorer)."""
    neg = sum(text.count(w) for w in NEGATIVE_WORDS)
    pos = sum(text.count(w) for w in POSITIVE_WORDS)
    return (pos + 1) / (pos + neg + 2)


class LexiconScorer:
    """The placeholder scorer behind the `Scorer` seam."""

    def predict_proba(self, texts: list[str]) -> list[float]:
        return [score(t) for t in texts]

    def score(self, text: str) -> float:
        return score(text)


def label(p_positive: float) -> str:
    if p_positive < 0.4:
        return "negative"
    if p_positive > 0.6:
        return "positive"
    return "neutral"


HASHTAG = re.compile(r"#([^#\s]{1,32})#")


def topics_of(text: str, topics: dict[str, list[str]], default: str = "office") -> list[str]:
    """Configured topics whose keywords occur, plus Weibo-style #hashtag# topics."""
    found = [name for name, words in topics.items() if any(w in text for w in words)]
    found += [f"#{tag}" for tag in dict.fromkeys(HASHTAG.findall(text))]
    return found or [default]


# --- near-duplicates: SimHash over character shingles -------------------------------------

_REPOST_NOISE = re.compile(r"//@[^:：]{1,30}[:：]|@[\w\-]{1,30}|https?://\S+|#[^#\s]{1,32}#|"
                           r"\[[^\]]{1,8}\]|转发微博|\s+")
_PUNCT = re.compile(r"[\W_]+")
SIMHASH_BITS = 64
BANDS = 4  # 4 bands of 16 bits: any two hashes within 3 bits share at least one band
NEAR_DUPLICATE_BITS = 3
_SHIFTS = np.arange(SIMHASH_BITS, dtype=np.uint64)


def normalise_for_story(text: str) -> str:
    """The text a repost shares with its original: no @handles, repost chains, links, tags."""
    return _PUNCT.sub("", _REPOST_NOISE.sub("", text)).lower()


def simhashes(texts: list[str]) -> list[int]:
    """64-bit SimHash (unsigned) of each text's character 3-shingles, in one vectorised pass
    over the whole batch (shingle codes hashed with splitmix64; each shingle votes once per
    occurrence). A text shorter than 3 characters after normalising hashes to 0."""
    if not texts:
        return []
    norm = [normalise_for_story(t) for t in texts]
    joined = "\x00\x00".join(norm)  # normalised texts contain no NUL: separators
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if cps.size < 3:
        return [0] * len(texts)
    grams = (cps[:-2] << np.uint64(42)) | (cps[1:-1] << np.uint64(21)) | cps[2:]
    valid = (cps[:-2] != 0) & (cps[1:-1] != 0) & (cps[2:] != 0)
    # text index of each gram position: texts start at the cumulative lengths + separators
    starts = np.cumsum([0] + [len(n) + 2 for n in norm[:-1]])
    owner = np.searchsorted(starts, np.arange(grams.size), side="right") - 1
    grams, owner = grams[valid], owner[valid]
    with np.errstate(over="ignore"):
        z = grams + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    counts = np.bincount(owner, minlength=len(texts))
    votes = np.zeros((len(texts), SIMHASH_BITS), dtype=np.int64)
    if z.size:
        firsts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        rows = owner[firsts]
        for bit in range(SIMHASH_BITS):  # 64 passes over a 1-D array beat one 2-D matrix
            ones = ((z >> np.uint64(bit)) & np.uint64(1)).astype(np.int32)
            votes[rows, bit] = np.add.reduceat(ones, firsts)
    packed = ((votes * 2 > counts[:, None]) & (counts[:, None] > 0)).astype(np.uint64)
    return [int(x) for x in (packed << _SHIFTS).sum(axis=1)]


def simhash(text: str) -> int:
    return simhashes([text])[0]


def bands(h: int) -> tuple[int, ...]:
    return tuple((h >> (16 * i)) & 0xFFFF for i in range(BANDS))


def near_duplicate(a: int, b: int, bits: int = NEAR_DUPLICATE_BITS) -> bool:
    return (a ^ b).bit_count() <= bits


def to_signed64(h: int) -> int:
    """Store an unsigned 64-bit hash in a signed BIGINT column."""
    return h - (1 << 64) if h >= 1 << 63 else h


def from_signed64(h: int) -> int:
    return h + (1 << 64) if h < 0 else h


def is_higher(level: str, than: str) -> bool:
    return LEVEL_ORDER.index(level) > LEVEL_ORDER.index(than)
