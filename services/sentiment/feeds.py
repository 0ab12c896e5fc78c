"""RSS/Atom feed sources (feedparser): entries become mentions of channel `feed` (or another
configured channel). The external id is the entry id, else its link."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import feedparser

from civicpulse.pseudonyms import url_identity

TAGS = re.compile(r"<[^>]+>")


class FeedError(Exception):
    pass


def fetch(name: str, url: str, channel: str = "feed") -> list[dict[str, Any]]:
    """Entries of one feed (a URL or a local path) as raw mention dicts."""
    parsed = feedparser.parse(url)
    if parsed.get("bozo") and not parsed.entries:
        raise FeedError(f"cannot read {url}: {parsed.get('bozo_exception')}")
    return [m for m in (to_mention(name, channel, e) for e in parsed.entries) if m]


def to_mention(source: str, channel: str, entry: Any) -> dict[str, Any] | None:
    text = " ".join(x for x in (entry.get("title"), _plain(entry.get("summary"))) if x).strip()
    ident = entry.get("id") or entry.get("link")
    if not text or not ident:
        return None
    if ident.startswith(("http://", "https://")):
        ident = url_identity(ident)  # the id outlives the retention period; the URL must not
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    out: dict[str, Any] = {"source": source, "channel": channel, "external_id": ident[:255],
                           "text": text[:20000], "author": entry.get("author")}
    if entry.get("link", "").startswith(("http://", "https://")):
        out["url"] = entry["link"][:1024]
    if published:
        out["published_at"] = datetime(*published[:6], tzinfo=UTC).isoformat()
    return out


def _plain(fragment: str | None) -> str:
    return html.unescape(TAGS.sub(" ", fragment or "")).strip()
