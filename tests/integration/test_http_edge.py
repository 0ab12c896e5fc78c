"""The guarded HTTP entrypoint (`civicpulse.access`) in a real nameko container over real
sockets: deny by default, credential kinds, body size and time limits, idle sockets, JSON
nesting, the review RPC timeout failing closed, and 500s that name no exception."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import eventlet
import pytest
import requests

from civicpulse.access import PUBLIC, STAFF, ask_identity, caller, http, staff_may
from civicpulse.web import ServiceUnavailable, json_api, load_json

pytestmark = pytest.mark.integration
STAFF_TOKENS = {"cps_good": {"name": "wang", "role": "editor"}}


class EdgeService:
    name = "edge"

    def authenticate_staff(self, token: str) -> dict[str, str] | None:
        return STAFF_TOKENS.get(token)

    @http("GET", "/open", access=PUBLIC)
    @json_api
    def open(self, request: Any) -> dict[str, Any]:
        return {"ok": True}

    @http("GET", "/forgotten")  # no policy declared
    @json_api
    def forgotten(self, request: Any) -> dict[str, Any]:
        return {"leaked": True}

    @http("POST", "/echo", access=STAFF, max_body=1024)
    @json_api
    def echo(self, request: Any) -> dict[str, Any]:
        return {"by": caller(request)["name"], "body": load_json(request)}

    @http("POST", "/senior", access=staff_may("approve", lambda role, _: role == "principal"))
    @json_api
    def senior(self, request: Any) -> dict[str, Any]:
        return {}

    @http("GET", "/boom", access=PUBLIC)
    def boom(self, request: Any) -> Any:
        raise RuntimeError("secret-db-password-in-message")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def edge(container_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CIVICPULSE_HTTP_BODY_SECONDS", "1")
    monkeypatch.setenv("CIVICPULSE_HTTP_IDLE_SECONDS", "1")
    port = free_port()
    container = container_factory(EdgeService, {"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                                                "AMQP_URI": "memory://"})
    container.start()
    yield f"http://127.0.0.1:{port}"
    container.stop()


GOOD = {"Authorization": "Bearer cps_good"}


def test_policies_are_enforced_and_default_to_nobody(edge: str) -> None:
    assert requests.get(f"{edge}/open", timeout=5).json() == {"ok": True}
    r = requests.get(f"{edge}/forgotten", headers=GOOD, timeout=5)
    assert r.status_code == 403 and "no access policy" in r.json()["error"]
    assert requests.post(f"{edge}/echo", json=[1], timeout=5).status_code == 401
    assert requests.post(f"{edge}/echo", json=[1], timeout=5,
                         headers={"Authorization": "Bearer cps_bogus"}).status_code == 401
    for kind in ("cpp_", "cpc_"):  # a partner's or a collector's token: wrong kind
        r = requests.post(f"{edge}/echo", json=[1], timeout=5,
                          headers={"Authorization": f"Bearer {kind}whatever"})
        assert r.status_code == 403 and r.json()["needs"] == "staff"
    assert requests.post(f"{edge}/echo", json=[1], headers=GOOD, timeout=5).json() == {
        "by": "wang", "body": [1]}
    r = requests.post(f"{edge}/senior", headers=GOOD, timeout=5)
    assert r.status_code == 403 and r.json()["action"] == "approve"


def test_body_limits_nesting_and_errors_answer_json(edge: str) -> None:
    r = requests.post(f"{edge}/echo", data=b"[" + b"1," * 600 + b"1]", headers=GOOD, timeout=5)
    assert r.status_code == 413 and r.json()["limit_bytes"] == 1024

    def chunked() -> Iterator[bytes]:
        yield b"[" + b"1," * 600
        yield b"1]"
    r = requests.post(f"{edge}/echo", data=chunked(), headers=GOOD, timeout=5)
    assert r.status_code == 413, "a chunked body is counted as it is read"
    deep = "[" * 5000 + "]" * 5000
    big = {**GOOD, "Content-Type": "application/json"}
    assert requests.post(f"{edge}/echo", data=deep[:1000] + deep[-1000:], headers=big,
                         timeout=5).status_code == 413
    r = requests.post(f"{edge}/echo", data="[" * 40 + "]" * 40, headers=big, timeout=5)
    assert r.status_code == 400 and "nests deeper" in r.json()["error"]
    r = requests.post(f"{edge}/echo", json={"text": "a\x00b"}, headers=GOOD, timeout=5)
    assert r.status_code == 400 and "NUL" in r.json()["error"]
    r = requests.get(f"{edge}/nowhere", timeout=5)
    assert r.status_code == 404 and r.json()["error"] == "not found", "routing errors are JSON"
    r = requests.get(f"{edge}/boom", timeout=5)
    assert r.status_code == 500 and r.json() == {"error": "internal error (logged by the service)"}
    assert "secret" not in r.text


def test_a_slow_or_idle_client_is_cut_off_without_holding_a_worker(edge: str) -> None:
    host, port = edge.removeprefix("http://").split(":")
    slow = socket.create_connection((host, int(port)))
    slow.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer cps_good\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n[1")
    started = time.monotonic()
    slow.settimeout(10)
    answer = slow.recv(4096).decode(errors="replace")
    slow.close()
    assert time.monotonic() - started < 5
    assert answer.startswith("HTTP/1.1 408") or answer == "", answer  # answered or dropped
    idle = socket.create_connection((host, int(port)))
    idle.settimeout(10)
    assert idle.recv(1) == b"", "an idle connection is closed by the server"
    idle.close()
    assert requests.get(f"{edge}/open", timeout=5).status_code == 200


def test_identity_not_answering_fails_closed_with_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICPULSE_AUTH_RPC_TIMEOUT_SECONDS", "0.2")

    def hangs(token: str) -> None:
        eventlet.sleep(5)

    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="did not answer within 0.2 s"):
        ask_identity(hangs, "cps_x")
    assert time.monotonic() - started < 2

    def fails(token: str) -> None:
        raise ConnectionError("broker gone")

    with pytest.raises(ServiceUnavailable, match="answered with an error"):
        ask_identity(fails, "cps_x")
