"""Text preparation shared by training and scoring: one place, so both see the same tokens.

fastText splits on whitespace; Chinese has none, so every character becomes a token and the model's
word n-grams become character n-grams. Emoticon tags such as ``[哈哈]`` stay as characters.
"""

from __future__ import annotations

import re

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
    | {"\u3000": None, "\ufeff": None, "\u200b": None}
)


def strip_emoticon_tags(text: str) -> str:
    """Remove Weibo-style ``[tag]`` emoticons (the Weibo corpus is labelled by them)."""
    return EMOTICON_TAG.sub("", text)


def tokens(text: str) -> str:
    """Space-separated characters of `text`: half-width, lower-cased, handles/links and whitespace
    dropped."""
    if "@" in text or "＠" in text or "http" in text or "转发" in text or "回复" in text:
        text = NOISE.sub(" ", text)
    return " ".join(text.translate(_NORMALISE))
