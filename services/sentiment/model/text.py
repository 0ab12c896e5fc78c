"""Text preparation shared by training and scoring: one place, so both see the same tokens.

fastText splits on whitespace; Chinese has none, so every character becomes a token and the model's
word n-grams become character n-grams. Emoticon tags such as ``[哈哈]`` stay as characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

EMOTICON_TAG = re.compile(r"\[[^\[\]\s]{1,8}\]")
# Handles, retweet chains and links carry no sentiment and make every post look unique.
NOISE = re.compile(
    r"https?://\S+|//[@＠][^:：\s]{1,30}[:：]?|[@＠][^\s:：@＠,，。!！?？]{1,30}|回复|转发微博"
)
# Full-width ASCII forms to ASCII, A-Z to a-z, whitespace and BOM dropped: the part of NFKC that
# matters here, in one pass at a fraction of its cost.
_NORMALISE = str.maketrans(
    {chr(code): chr(code - 0xFEE0).lower() for code in range(0xFF01, 0xFF5F)}
    | {chr(code): chr(code).lower() for code in range(ord("A"), ord("Z") + 1)}
    | {chr(code): None for code in range(0x3001) if chr(code).isspace()}
    | {"\u3000": None, "\ufeff": None, "\u200b": None, "\0": None}  # fastText splits at NUL too
)


def strip_emoticon_tags(text: str) -> str:
    """Remove Weibo-style ``[tag]`` emoticons (the Weibo corpus is labelled by them)."""
    return EMOTICON_TAG.sub("", text)


def characters(text: str) -> str:
    """The characters of `text` the model reads, each one token: half-width, lower-cased,
    handles/links and whitespace dropped."""
    return _without_noise(text).translate(_NORMALISE)


def _without_noise(text: str) -> str:
    if "@" in text or "＠" in text or "http" in text or "转发" in text or "回复" in text:
        return NOISE.sub(" ", text)
    return text


def _code_point_map() -> np.ndarray:
    """`_NORMALISE` as an array indexed by code point: the code point it becomes, -1 if dropped."""
    table = np.arange(0x110000, dtype=np.int64)
    for code, target in _NORMALISE.items():
        table[code] = -1 if target is None else ord(target) if isinstance(target, str) else target
    return table


_CODE_POINT_MAP = _code_point_map()


def character_codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """`characters` of every text at once, as one array of code points (the texts one after the
    other) and each text's length: what batch_scoring.py reads."""
    cleaned = [_without_noise(text) for text in texts]
    raw = np.frombuffer("".join(cleaned).encode("utf-32-le", "replace"), dtype=np.uint32)
    mapped = _CODE_POINT_MAP[raw]
    kept = mapped >= 0
    owner = np.repeat(np.arange(len(cleaned)), [len(text) for text in cleaned])
    lengths = np.bincount(owner[kept], minlength=len(cleaned))
    return mapped[kept], lengths


def tokens(text: str) -> str:
    """Space-separated `characters` of `text`: a line as fastText reads it."""
    return " ".join(characters(text))
