"""Keep secrets that travel inside URLs out of logs, errors, events and receipts.

A webhook URL may carry its key in the query string (`...?key=...`), a broker URI its password
(`amqp://user:password@host/`). `redact_url` gives the URL without them; `redact` scrubs every URL
inside a free text (an exception message that quotes the URL it failed on).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@")
_QUERY = re.compile(r"\?[^\s'\"<>)\]]+")


def redact_url(url: str) -> str:
    """The URL with its password and its query string masked (fragment dropped)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
    query = MASK if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact(text: str) -> str:
    """`text` with every URL password and every query string masked."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _QUERY.sub(f"?{MASK}", text)
