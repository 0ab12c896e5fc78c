"""Sentiment rules, pure: scoring (placeholder), labels, topics, the negative-burst rule.

The scorer here is an honest placeholder (a small lexicon of negative and positive words): the
trained model arrives with the sentiment issue. Everything else is the real rule.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

NEGATIVE_WORDS = (
    "不满", "失望", "愤怒", "质疑", "敷衍", "投诉", "差", "糟糕", "拖延", "不作为", "黑幕", "腐败",
    "欺骗", "垃圾", "抗议", "举报", "不公", "乱", "恶劣", "问题", "没人管", "推诿",
)
POSITIVE_WORDS = (
    "满意", "点赞", "支持", "感谢", "好", "高效", "认真", "负责", "公开", "透明", "及时", "赞",
)
LEVEL_ORDER = ("IV", "III", "II", "I")


def score(text: str) -> float:
    """Probability-like score that `text` is positive (placeholder lexicon scorer)."""
    neg = sum(text.count(w) for w in NEGATIVE_WORDS)
    pos = sum(text.count(w) for w in POSITIVE_WORDS)
    return (pos + 1) / (pos + neg + 2)


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


@dataclass(frozen=True)
class DetectionRule:
    window_minutes: int
    min_negative: int
    min_negative_ratio: float
    levels: dict[str, int]

    def level_for(self, negative: int, volume: int) -> str | None:
        """Severity of a window, or None when it is not a negative burst."""
        if negative < self.min_negative or volume == 0:
            return None
        if negative / volume < self.min_negative_ratio:
            return None
        level = None
        for name in LEVEL_ORDER:
            if negative >= self.levels[name]:
                level = name
        return level

    def subsided(self, negative: int, volume: int) -> bool:
        """Hysteresis: an incident subsides well below the detection threshold."""
        return negative < max(1, self.min_negative // 2) or (
            volume > 0 and negative / volume < self.min_negative_ratio / 2)


def is_higher(level: str, than: str) -> bool:
    return LEVEL_ORDER.index(level) > LEVEL_ORDER.index(than)
