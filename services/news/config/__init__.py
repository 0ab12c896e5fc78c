"""News configuration: where the website channel writes and the URL it is served under."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from civicpulse.settings import for_service


@dataclass(frozen=True)
class NewsConfig:
    site_dir: Path
    site_url: str


def load() -> NewsConfig:
    """Read on each call: `CIVICPULSE_VAR_DIR` decides the site directory (tests change it)."""
    settings = for_service("news")
    default_url = f"http://127.0.0.1:{settings.http_port}/site"
    return NewsConfig(site_dir=settings.var_dir / "site",
                      site_url=os.environ.get("NEWS_SITE_URL", default_url).rstrip("/"))
