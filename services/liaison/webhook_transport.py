"""The HTTPS POST of one webhook delivery (requests), signed with `civicpulse.webhooks`.

Headers: `webhook-id` (the event's `id`: the same on every retry, and the same id the agency's
queue carries, so one de-duplication key serves both), `webhook-timestamp`, `webhook-signature`
(Standard Webhooks), `X-CivicPulse-Event-Type`, `X-CivicPulse-Agency`. Only `https://` URLs are
ever called; the server certificate is verified against the system trust store or the CA bundle
of `CIVICPULSE_WEBHOOK_CA_BUNDLE` (never not verified). Redirects are not followed. A 2xx answer
is a delivery; anything else (another status, a timeout, a TLS or connection error) is a failed
attempt, retried. Errors never quote the URL's query string (where a key may be).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from civicpulse import webhooks
from civicpulse.redaction import redact, redact_url

EVENT_TYPE_HEADER = "X-CivicPulse-Event-Type"
AGENCY_HEADER = "X-CivicPulse-Agency"


@dataclass(frozen=True)
class Answer:
    """How one POST went: `error` None means delivered (2xx)."""

    http_status: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None


class HttpsPoster:
    def __init__(self, verify: str | bool = True, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        if verify is False:
            raise ValueError("webhook deliveries always verify the server certificate")
        self.verify = verify
        self.timeout = timeout
        self.session = session or requests.Session()

    def post(self, url: str, secret: str, agency: str, event_id: str, event_type: str,
             body: bytes) -> Answer:
        started = time.monotonic()
        if urlsplit(url).scheme != "https":
            return Answer(None, "refused to send: the webhook URL is not https://", 0)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   EVENT_TYPE_HEADER: event_type, AGENCY_HEADER: agency,
                   **webhooks.sign(body, secret, delivery_id=event_id)}
        try:
            r = self.session.post(url, data=body, headers=headers, timeout=self.timeout,
                                  verify=self.verify, allow_redirects=False)
        except requests.RequestException as exc:
            return Answer(None, _scrub(url, f"{type(exc).__name__}: {exc}"), _ms(started))
        if 200 <= r.status_code < 300:
            return Answer(r.status_code, None, _ms(started))
        return Answer(r.status_code, _scrub(url, f"HTTP {r.status_code}: {r.text[:200]}"),
                      _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _scrub(url: str, text: str) -> str:
    return redact(text.replace(url, redact_url(url)))[:500]
