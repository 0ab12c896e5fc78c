"""Transmitters: where a rendition goes.

- `FilesystemTransmitter` writes the rendition's files atomically into a folder any web server
  can serve (and the news service serves under `/site/`).
- `WebhookTransmitter` POSTs the rendition's document as JSON, signed with a timestamp
  (`civicpulse.webhooks`: headers `webhook-id`, `webhook-timestamp`, `webhook-signature`, after
  the Standard Webhooks specification); `webhook-id` is the delivery's id, the same on each retry,
  so the receiver can deduplicate. A timeout, a connection error or a non-2xx answer is a
  `TransmitError` (retried by the queue). The URL's query string (where a gateway's key often
  is) never appears in an error or a receipt: both are redacted.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import requests

from civicpulse import webhooks
from civicpulse.redaction import redact, redact_url
from services.news.channels.base import Rendition, TransmitError

EVENT_HEADER = "X-CivicPulse-Action"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FilesystemTransmitter:
    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def url_for(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def transmit(self, rendition: Rendition, delivery_id: str = "") -> str:
        try:
            for name, text in rendition.files.items():
                write_atomic(self.root / name, text)
            for name in rendition.removals:
                (self.root / name).unlink(missing_ok=True)
        except OSError as exc:
            raise TransmitError(f"cannot write {self.root}: {exc}") from exc
        return self.url_for(rendition.primary or "")


class WebhookTransmitter:
    def __init__(self, url: str, secret: str, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        if not secret:
            raise ValueError("a webhook channel needs a signing secret")
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.session = session or requests.Session()

    def transmit(self, rendition: Rendition, delivery_id: str = "") -> str:
        body = json.dumps(rendition.document, ensure_ascii=False, sort_keys=True).encode()
        delivery_id = delivery_id or f"{rendition.item_id}:{rendition.action}"
        headers = {"Content-Type": "application/json; charset=utf-8",
                   EVENT_HEADER: rendition.action,
                   **webhooks.sign(body, self.secret, delivery_id=delivery_id)}
        try:
            response = self.session.post(self.url, data=body, headers=headers,
                                         timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransmitError(self._scrub(f"{type(exc).__name__}: {exc}")) from exc
        if not 200 <= response.status_code < 300:
            raise TransmitError(self._scrub(f"HTTP {response.status_code}: "
                                            f"{response.text[:200]}"))
        try:
            receipt = response.json().get("url") if response.content else None
        except (ValueError, AttributeError):
            receipt = None
        return redact_url(str(receipt or self.url))

    def _scrub(self, text: str) -> str:
        """`text` without the URL's secrets, wherever an exception quoted them."""
        return redact(text.replace(self.url, redact_url(self.url)))
