"""Real receivers for the notify tests, run as their own processes:

    python -m tests.notify_sinks smtp --port P --out DIR [--tls CERT KEY] [--auth USER:PASS]
                                      [--reject SUBSTRING]
    python -m tests.notify_sinks robots --port P --out DIR --wecom-key K --dingtalk-secret S
                                        --feishu-secret S [--fail-first N]

The SMTP sink is aiosmtpd; each accepted mail becomes one JSON file in DIR (mail_from,
rcpt_tos, the raw message). A recipient containing the --reject substring is refused with 550.

The robot receiver checks each robot's proof the way the vendor does: the WeCom `key` in the
URL; DingTalk's `timestamp` (ms, within an hour) and `sign` = urlencoded base64 HMAC-SHA256
(key=secret, msg="timestamp\\nsecret"); Feishu's `timestamp` (s, within an hour) and `sign` =
base64 HMAC-SHA256 (key="timestamp\\nsecret", empty message). A message that passes becomes a
JSON file; one that fails is answered with the vendor's error code and not kept. The first
--fail-first requests are answered HTTP 503 (a robot platform having a bad minute).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

from tests.helpers import free_port  # noqa: F401 - one port picker for the run


def _write(out: Path, record: dict[str, Any]) -> None:
    tmp = out / f".{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, out / f"{time.time_ns()}-{uuid.uuid4().hex[:6]}.json")


def message(record: dict[str, Any]) -> Any:
    """The e-mail an SMTP sink record holds (an `email.message.EmailMessage`)."""
    import email
    import email.policy

    return email.message_from_bytes(record["data"].encode(), policy=email.policy.default)


def read_all(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))]


# --- SMTP ----------------------------------------------------------------------------------------

def serve_smtp(args: argparse.Namespace) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    out = Path(args.out)

    class Sink:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              rcpt_options: Any) -> str:
            if args.reject and args.reject in address:
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            _write(out, {"received_at": time.time(), "mail_from": envelope.mail_from,
                         "rcpt_tos": envelope.rcpt_tos,
                         "data": envelope.original_content.decode("utf-8", "replace"),
                         "tls": session.ssl is not None,
                         "auth": bool(getattr(session, "authenticated", False))})
            return "250 Message accepted"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        user, _, password = (args.auth or "").partition(":")
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and \
            auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    kwargs: dict[str, Any] = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
        kwargs.update(tls_context=context, require_starttls=True)
    if args.auth:
        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=bool(args.tls))
    controller = Controller(Sink(), hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    threading.Event().wait()


# --- robots --------------------------------------------------------------------------------------

def _fresh(timestamp_s: float) -> bool:
    return abs(time.time() - timestamp_s) < 3600


def check_dingtalk(query: dict[str, str], secret: str) -> bool:
    ts = query.get("timestamp", "")
    if not ts.isdigit() or not _fresh(int(ts) / 1000):
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    return hmac.compare_digest(unquote_plus(query.get("sign_raw", "")), expected)


def check_feishu(body: dict[str, Any], secret: str) -> bool:
    ts = str(body.get("timestamp", ""))
    if not ts.isdigit() or not _fresh(int(ts)):
        return False
    expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"",
                                         hashlib.sha256).digest()).decode()
    return hmac.compare_digest(str(body.get("sign", "")), expected)


def serve_robots(args: argparse.Namespace) -> None:
    out = Path(args.out)
    failures = {"left": args.fail_first}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            raw_query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            query["sign_raw"] = raw_query.get("sign", "")
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            with lock:
                if failures["left"] > 0:
                    failures["left"] -= 1
                    return self._answer(503, {"error": "try later"})
            if parts.path == "/wecom/send":
                if query.get("key") != args.wecom_key:
                    return self._answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
                ok_answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
            elif parts.path == "/dingtalk/send":
                if not check_dingtalk(query, args.dingtalk_secret):
                    return self._answer(200, {"errcode": 310000, "errmsg": "sign not match"})
                ok_answer = {"errcode": 0, "errmsg": "ok"}
            elif parts.path == "/feishu/hook":
                if not check_feishu(body, args.feishu_secret):
                    return self._answer(200, {"code": 19021, "msg": "sign match fail"})
                ok_answer = {"code": 0, "msg": "success", "data": {}}
            else:
                return self._answer(404, {"error": "no such robot"})
            _write(out, {"robot": parts.path.split("/")[1], "body": body})
            return self._answer(200, ok_answer)

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


# --- for the tests: start one as a process ------------------------------------------------------

class Running:
    """A sink process: its port, its output directory, what it received."""

    def __init__(self, kind: str, port: int, out: Path, *extra: str) -> None:
        import subprocess
        import sys

        self.kind, self.port, self.out, self.extra = kind, port, out, extra
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.notify_sinks", kind,
                                      "--port", str(port), "--out", str(out), *extra],
                                     cwd=Path(__file__).resolve().parents[1])
        self._wait_listening()

    def _wait_listening(self, timeout: float = 20.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.kind} sink did not start") from None
                time.sleep(0.05)

    def received(self) -> list[dict[str, Any]]:
        return read_all(self.out)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost (openssl), to test STARTTLS."""
    import subprocess

    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="kind", required=True)
    smtp = sub.add_parser("smtp")
    smtp.add_argument("--port", type=int, required=True)
    smtp.add_argument("--out", required=True)
    smtp.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    smtp.add_argument("--auth", default="")
    smtp.add_argument("--reject", default="")
    robots = sub.add_parser("robots")
    robots.add_argument("--port", type=int, required=True)
    robots.add_argument("--out", required=True)
    robots.add_argument("--wecom-key", required=True)
    robots.add_argument("--dingtalk-secret", required=True)
    robots.add_argument("--feishu-secret", required=True)
    robots.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (serve_smtp if args.kind == "smtp" else serve_robots)(args)


if __name__ == "__main__":
    main()
