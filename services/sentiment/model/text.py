"""Text preparation shared by training and scoring: one place, so both see the same tokens.

fastText splits on whitespace; Chinese has none, so every character becomes a token and the model's
word n-grams become character n-grams. Emoticon tags such as ``[哈哈]`` stay as characters.
"""

from __future__ import annotations

import re
import unicodedata

EMOTICON_TAG = re.compile(r"\[[^\[\]\s]{1,8}\]")
_BOM = "\ufeff"


def strip_emoticon_tags(text: str) -> str:
    """Remove Weibo-style ``[tag]`` emoticons (the Weibo corpus is labelled by them)."""
    return EMOTICON_TAG.sub("", text)


def tokens(text: str) -> str:
    """Space-separated characters of `text`: NFKC-normalised, lower-cased, whitespace dropped."""
    text = unicodedata.normalize("NFKC", text.replace(_BOM, "")).lower()
    return " ".join("".join(text.split()))
