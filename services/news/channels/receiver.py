"""A reference receiver for the webhook channel: it checks each POST's signature and timestamp
(`civicpulse.webhooks.verify`: 401 for a bad signature or a timestamp outside `max_age`), takes
each delivery once (a replayed or retried `webhook-id` is answered 200 and not applied again),
records what arrived and can refuse the first N requests with 500 (a failure drill). Partners can
copy it; the tests use it as the far end of the webhook.

    receiver = WebhookReceiver(secret="s", fail_first=2).start()   # 127.0.0.1, a free port
    ... receiver.url ... receiver.received ...
    receiver.stop()
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from civicpulse import webhooks


@dataclass
class WebhookReceiver:
    secret: str
    fail_first: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    requests: int = 0
    replayed: int = 0
    max_age: float = webhooks.DEFAULT_MAX_AGE
    seen: webhooks.MemorySeenStore = field(default_factory=webhooks.MemorySeenStore)

    def start(self) -> WebhookReceiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests += 1
                if outer.requests <= outer.fail_first:
                    outer.refused += 1
                    return self._answer(500, {"error": "drill: failing on purpose"})
                try:
                    webhooks.verify(dict(self.headers.items()), body, outer.secret,
                                    outer.max_age, outer.seen)
                except webhooks.Replayed:
                    outer.replayed += 1
                    return self._answer(200, {"duplicate": True})
                except webhooks.WebhookError as exc:
                    return self._answer(401, {"error": exc.reason})
                document = json.loads(body)
                outer.received.append(document)
                self._answer(200, {"url": f"{outer.url}/{document.get('item_id')}"})

            def _answer(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
