"""Live fragments: a part of a page the browser polls (htmx, every CONSOLE_LIVE_SECONDS) and
swaps when it changed. The browser sends the version it shows (`v`); an unchanged fragment is
answered 204 (htmx swaps nothing), so an idle page costs one small request every 2 s.

Why polling and not server-sent events fed from the bus: a nameko HTTP worker would be held for
as long as each SSE stream stays open (max_workers per process), the streams would need their
own fan-out from the bus and reconnection logic, and proxies buffer them; a 2 s poll of a
fragment rendered from the same APIs meets the "within a couple of seconds" need, works the
same in the embedded mode and behind any proxy, and shows exactly what the API allows now."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any


def version(html: str) -> str:
    """The version of a rendered fragment."""
    return hashlib.sha256(html.encode()).hexdigest()[:16]


def version_of(data: Any, now: datetime) -> str:
    """The version of a fragment from what it shows and the minute it is shown in (countdowns
    move by the minute), without rendering it first: the home page, the busiest fragment,
    is rendered once a request instead of twice."""
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return version(text + now.strftime("|%Y-%m-%dT%H:%M"))
