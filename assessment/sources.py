"""The services' raw records of a period: `GET /records?since=&until=` on review, liaison,
news, notify and identity (the staff: who is in which section), with an admin staff token. Each
answer is the service's own rows, unjoined."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from assessment.period import Period
from civicpulse.settings import service_url

SOURCES = ("review", "liaison", "news", "notify", "identity")
Records = dict[str, dict[str, Any]]
UrlOf = Callable[[str], str]


class SourceError(RuntimeError):
    """A service did not give its records (down, refused the token, bad answer)."""


def fetch(period: Period, token: str, url_of: UrlOf = service_url, timeout: float = 30.0
          ) -> Records:
    """{service: its `/records` answer} for the period; SourceError names the one that failed."""
    return {name: _fetch_one(name, period, token, url_of(name), timeout) for name in SOURCES}


def _fetch_one(name: str, period: Period, token: str, base: str, timeout: float
               ) -> dict[str, Any]:
    try:
        resp = requests.get(f"{base}/records", timeout=timeout,
                            params={"since": period.since.isoformat(),
                                    "until": period.until.isoformat()},
                            headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as exc:
        raise SourceError(f"{name} at {base} did not answer: {exc}") from exc
    if resp.status_code != 200:
        raise SourceError(f"{name} refused its records ({resp.status_code}): {resp.text[:300]}")
    return resp.json()
