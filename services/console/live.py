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


def version(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]
