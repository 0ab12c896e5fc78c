"""The RabbitMQ management HTTP API, as far as partner access needs it: users, permissions,
the partner queue and its binding, closing a user's connections. An adapter (requests, basic
auth from `RABBITMQ_MANAGEMENT_URL`); `partner_accounts` decides what to ask of it."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

import requests

from civicpulse import queues, settings
from civicpulse.outbox import PARTNER_EXCHANGE

DEFAULT_MANAGEMENT_URL = settings.VARIABLES["RABBITMQ_MANAGEMENT_URL"].default


class Management:
    """The few management API calls partners need (requests, basic auth from the URL)."""

    def __init__(self, url: str | None = None, timeout: float = 10.0) -> None:
        parts = urlsplit(url or settings.value("RABBITMQ_MANAGEMENT_URL"))
        self.auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        host = parts.hostname or "127.0.0.1"
        self.base = f"{parts.scheme}://{host}:{parts.port or 15672}/api"
        self.timeout = timeout

    def _call(self, method: str, path: str, json: object | None = None,
              ok_missing: bool = False) -> requests.Response:
        r = requests.request(method, f"{self.base}{path}", json=json, auth=self.auth,
                             timeout=self.timeout)
        if ok_missing and r.status_code == 404:
            return r
        r.raise_for_status()
        return r

    def put_user(self, user: str, password: str) -> None:
        self._call("PUT", f"/users/{quote(user, safe='')}", {"password": password, "tags": ""})

    def delete_user(self, user: str) -> None:
        self._call("DELETE", f"/users/{quote(user, safe='')}", ok_missing=True)

    def set_permissions(self, vhost: str, user: str, perms: dict[str, str]) -> None:
        self._call("PUT", f"/permissions/{quote(vhost, safe='')}/{quote(user, safe='')}", perms)

    def declare_queue(self, vhost: str, queue: str, agency: str) -> None:
        v = quote(vhost, safe="")
        self._call("PUT", f"/exchanges/{v}/{PARTNER_EXCHANGE}",
                   {"type": "direct", "durable": True, "auto_delete": False})
        self._call("PUT", f"/queues/{v}/{quote(queue, safe='')}",
                   {"durable": True, "auto_delete": False, "arguments": queues.replicated()})
        self._call("POST", f"/bindings/{v}/e/{PARTNER_EXCHANGE}/q/{quote(queue, safe='')}",
                   {"routing_key": agency})

    def delete_queue(self, vhost: str, queue: str) -> None:
        self._call("DELETE", f"/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}",
                   ok_missing=True)

    def close_connections(self, user: str) -> None:
        """Close every open connection of `user` (the broker's connection tracking, which
        knows a connection at once, unlike the statistics behind `GET /connections`)."""
        self._call("DELETE", f"/connections/username/{quote(user, safe='')}", ok_missing=True)
