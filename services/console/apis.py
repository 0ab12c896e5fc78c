"""Calling the services' HTTP APIs as the signed-in person.

Every read and write the console makes goes through the same HTTP API a script would use,
with the person's own token (identity's session token for staff, the agency's token for a
partner), so the console can show and do exactly what the API allows that person, no more:

    api = UserApi(settings.api_urls, session.token, settings.api_timeout_seconds)
    tickets = api.get("liaison", "/tickets", status="open")["tickets"]
    api.post("liaison", f"/tickets/{tid}/acknowledge")

A refusal comes back as `ApiError` with the API's status and reason; pages do not catch it:
the page decorator (services/console/web.py) renders it as a Chinese error (a 401 signs the
person out). No business rule of the services lives here.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

_HTTP = requests.Session()
_HTTP.mount("http://", HTTPAdapter(pool_connections=8, pool_maxsize=32))
_HTTP.mount("https://", HTTPAdapter(pool_connections=8, pool_maxsize=32))


class ApiError(Exception):
    """A service refused or failed: `status` (0 when it did not answer), its JSON reason."""

    def __init__(self, service: str, status: int, reason: str, body: Any = None) -> None:
        super().__init__(f"{service}: {status} {reason}")
        self.service = service
        self.status = status
        self.reason = reason
        self.body = body if isinstance(body, dict) else {}


class UserApi:
    def __init__(self, urls: dict[str, str], token: str, timeout: float) -> None:
        self.urls = urls
        self.token = token
        self.timeout = timeout

    def get(self, service: str, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None and v != ""}
        return self.call("GET", service, path, params=query)

    def post(self, service: str, path: str, body: Any = None) -> Any:
        return self.call("POST", service, path, json=body if body is not None else {})

    def put(self, service: str, path: str, body: Any = None) -> Any:
        return self.call("PUT", service, path, json=body if body is not None else {})

    def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        url = self.urls[service] + path
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        try:
            r = _HTTP.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            log.warning("console: %s %s %s did not answer: %s", service, method, path,
                        type(exc).__name__)
            raise ApiError(service, 0, "unavailable") from None
        try:
            body = r.json()
        except ValueError:
            body = None
        if r.status_code >= 400:
            reason = body.get("error", "") if isinstance(body, dict) else ""
            raise ApiError(service, r.status_code, str(reason), body)
        return body

    def text(self, service: str, path: str) -> str:
        """A non-JSON answer (a Markdown report); ApiError like `call`."""
        url = self.urls[service] + path
        try:
            r = _HTTP.get(url, headers={"Authorization": f"Bearer {self.token}"},
                          timeout=self.timeout)
        except requests.RequestException:
            raise ApiError(service, 0, "unavailable") from None
        if r.status_code >= 400:
            raise ApiError(service, r.status_code, "refused")
        return r.text
