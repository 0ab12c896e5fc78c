"""Sentiment rules, pure: the scorer seam, labels, topics, pseudonyms, near-duplicate hashing.

The burst detector lives beside it in `detection.py` (pure as well). The lexicon scorer here is
the fallback used until the trained model (`services.sentiment.model`) is importable.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import zlib
from typing import Protocol

import numpy as np

NEGATIVE_WORDS = (
    "不满", "失望", "愤怒", "质疑", "敷衍", "投诉", "差", "糟糕", "拖延", "不作为", "黑幕", "腐败",
    "欺骗", "垃圾", "抗议", "举报", "不公", "乱", "恶劣", "问题", "没人管", "推诿",
)
POSITIVE_WORDS = (
    "满意", "点赞", "支持", "感谢", "好", "高效", "认真", "负责", "公开", "透明", "及时", "赞",
)
LEVEL_ORDER = ("IV", "III", "II", "I")
LEVEL_NAMES = {"IV": "一般", "III": "较大", "II": "重大", "I": "特别重大"}


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


def pseudonymise(handle: str, key: bytes) -> str:
    """Keyed hash of an author handle: stable per key, not reversible without it."""
    return hmac.new(key, handle.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


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
    """64-bit SimHash (unsigned) of each text's character 3-shingles, one vectorised pass."""
    counts: list[int] = []
    hashes: list[int] = []
    for text in texts:
        n = normalise_for_story(text)
        shingles = {n[i:i + 3] for i in range(max(1, len(n) - 2))} if n else set()
        counts.append(len(shingles))
        for sh in shingles:
            b = sh.encode()
            hashes.append(zlib.crc32(b) << 32 | zlib.crc32(b, 0x5BD1E995))
    if not hashes:
        return [0] * len(texts)
    bits = ((np.array(hashes, dtype=np.uint64)[:, None] >> _SHIFTS) & np.uint64(1)
            ).astype(np.int32)
    n_arr = np.array(counts)
    starts = np.concatenate(([0], np.cumsum(n_arr)[:-1]))
    present = n_arr > 0
    sums = np.zeros((len(texts), SIMHASH_BITS), dtype=np.int64)
    sums[present] = np.add.reduceat(bits, starts[present], axis=0)
    votes = (sums * 2 > n_arr[:, None]).astype(np.uint64)
    return [int(x) for x in (votes << _SHIFTS).sum(axis=1)]


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
