"""Transmitters: where a rendition goes.

- `FilesystemTransmitter` writes the rendition's files atomically into a folder any web server
  can serve (and the news service serves under `/site/`).
- `WebhookTransmitter` POSTs the rendition's document as JSON, signed: the header
  `X-CivicPulse-Signature: sha256=<hex>` is HMAC-SHA256 of the exact body bytes with the
  channel's secret; `X-CivicPulse-Delivery` names the delivery so the receiver can deduplicate.
  A timeout, a connection error or a non-2xx answer is a `TransmitError` (retried by the queue).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from pathlib import Path

import requests

from services.news.channels.base import Rendition, TransmitError

SIGNATURE_HEADER = "X-CivicPulse-Signature"
DELIVERY_HEADER = "X-CivicPulse-Delivery"
EVENT_HEADER = "X-CivicPulse-Action"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """For receivers (and tests): constant-time check of a signature header."""
    return hmac.compare_digest(sign(secret, body), signature or "")


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

    def transmit(self, rendition: Rendition) -> str:
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
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.session = session or requests.Session()

    def transmit(self, rendition: Rendition, delivery_id: str = "") -> str:
        body = json.dumps(rendition.document, ensure_ascii=False, sort_keys=True).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   SIGNATURE_HEADER: sign(self.secret, body), EVENT_HEADER: rendition.action,
                   DELIVERY_HEADER: delivery_id or f"{rendition.item_id}:{rendition.action}"}
        try:
            response = self.session.post(self.url, data=body, headers=headers,
                                         timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransmitError(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise TransmitError(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            receipt = response.json().get("url") if response.content else None
        except ValueError:
            receipt = None
        return str(receipt or self.url)
