"""The scorer behind `domain.Scorer`: the shipped model when it is importable, else the lexicon
placeholder. `SENTIMENT_SCORER=lexicon` forces the placeholder (tests of detection rules)."""

from __future__ import annotations

import logging
from functools import cache

from civicpulse import settings
from services.sentiment.domain import LexiconScorer, Scorer

log = logging.getLogger(__name__)


@cache
def load() -> Scorer:
    if settings.value("SENTIMENT_SCORER") == "lexicon":
        return LexiconScorer()
    try:
        from services.sentiment.model import load_scorer

        return load_scorer()
    except Exception as exc:  # noqa: BLE001 - any failure to load falls back, loudly
        log.warning("sentiment model unavailable (%s); using the lexicon placeholder", exc)
        return LexiconScorer()
