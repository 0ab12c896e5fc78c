"""The agencies' webhook receiver examples (examples/python/webhook_receiver.py, stdlib only;
examples/node/webhook_receiver.js, Node's own modules) as real processes over HTTPS with a CA
the test makes, fed by liaison's own sender transport (services/liaison/webhook_transport.py,
in tests/webhook_client.py): a signed event is taken and printed once, a retry of it (same id,
new timestamp) is answered 2xx and not printed again, a wrong secret, an old timestamp or a
changed body is refused (401); the transport refuses a certificate it cannot verify and an
http:// URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.test_deploy import tool
from tests.integration.tls_broker import free_port, make_ca_and_server_cert

pytestmark = pytest.mark.integration
SECRET = "s3cret-for-the-example"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tool("openssl")
    return make_ca_and_server_cert(tmp_path_factory.mktemp("webhook-tls"))


def _command(kind: str) -> list[str]:
    if kind == "node":
        return [tool("node"), str(ROOT / "examples" / "node" / "webhook_receiver.js")]
    return [sys.executable, str(ROOT / "examples" / "python" / "webhook_receiver.py")]


@pytest.fixture(params=["python", "node"])
def receiver(request: pytest.FixtureRequest, certs: dict[str, Path]
             ) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {**os.environ, "CIVICPULSE_WEBHOOK_SECRET": SECRET, "PORT": str(port),
           "TLS_CERT": str(certs["server"]), "TLS_KEY": str(certs["key"])}
    proc = subprocess.Popen(_command(request.param), env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stderr is not None and "listening" in proc.stderr.readline()
    try:
        yield f"https://localhost:{port}/civicpulse", proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_the_examples_verify_the_signature_and_deduplicate(
        receiver: tuple[str, subprocess.Popen[str]], certs: dict[str, Path]) -> None:
    url, proc = receiver
    client = subprocess.run([sys.executable, "-m", "tests.webhook_client", url,
                             str(certs["ca"]), SECRET], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert client.returncode == 0, client.stderr[-2000:]
    got = json.loads(client.stdout.strip().splitlines()[-1])
    assert (got["first"], got["retry"], got["second"]) == (204, 204, 204)
    assert (got["wrong_secret"], got["stale"], got["tampered"]) == (401, 401, 401)
    assert got["untrusted"][0] is None and "SSLError" in got["untrusted"][1]
    assert got["plain"][0] is None and "not https" in got["plain"][1]

    proc.kill()
    out, _ = proc.communicate(timeout=10)
    printed = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [e["id"] for e in printed] == got["ids"]  # the retry was not handled twice
    assert printed[0] == got["first_body"]
