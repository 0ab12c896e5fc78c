"""An agency's HTTPS webhook receiver for the end-to-end test, run as its own process:

    python -m tests.webhook_receiver PORT CERT KEY SECRET OUT REFUSE

It serves HTTPS with CERT/KEY (signed by the test's CA), refuses the first REFUSE POSTs with
503 (REFUSE -1: every one), verifies each other POST with `civicpulse.webhooks.verify` (401 if
it does not verify) and appends one JSON line per request to OUT: the outcome, the headers it
checked and the body as received."""

from __future__ import annotations

import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from civicpulse import webhooks


def main(port: int, cert: str, key: str, secret: str, out: Path, refuse: int) -> None:
    lock = threading.Lock()
    seen = {"posts": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                seen["posts"] += 1
                refused = refuse < 0 or seen["posts"] <= refuse
            headers = dict(self.headers.items())
            if refused:
                outcome, status = "refused", 503
            else:
                try:
                    webhooks.verify(headers, body, secret)
                    outcome, status = "accepted", 204
                except webhooks.WebhookError as exc:
                    outcome, status = f"bad: {exc.reason}", 401
            with lock, out.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"outcome": outcome, "headers": headers,
                                     "body": body.decode("utf-8")}, ensure_ascii=False) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    a = sys.argv[1:]
    main(int(a[0]), a[1], a[2], a[3], Path(a[4]), int(a[5]))
