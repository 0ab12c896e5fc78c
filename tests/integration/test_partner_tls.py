"""Partners over TLS, on a RabbitMQ node of the test's own (tls_broker.py: a CA and server
certificate made here, plain listener internal, TLS listener on the partners' address).

`civicpulse partners add` with the partner endpoint set to TLS prints an `amqps://` URI for the
public host and port; the Python and Node.js examples and `amqp-consume` consume over it,
verifying the server certificate against the CA; a client that does not trust that CA is
refused; and on the partners' address a plain `amqp://` connection with the same credentials
is refused (TLS is required there: the plain listener is internal only)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pika
import pika.exceptions
import pytest
import yaml
from click.testing import CliRunner

from civicpulse.envelope import Envelope
from civicpulse.outbox import PARTNER_EXCHANGE
from services.liaison.cli import partners
from tests.helpers import json_values
from tests.integration.tls_broker import PUBLIC_HOST, TlsBroker

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def node() -> Iterator[TlsBroker]:
    home = Path(tempfile.mkdtemp(prefix="cp-tls-node-"))  # pytest's tmp is 0700: rabbitmq
    broker = TlsBroker(home)                               # could not read its config there
    try:
        yield broker.start()
    finally:
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def creds(node: TlsBroker, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`civicpulse partners add cac` against the node, TLS on, as a deployer runs it."""
    env = {"AMQP_URI": node.internal_uri, "RABBITMQ_MANAGEMENT_URL": node.management_url,
           "CIVICPULSE_PARTNER_AMQP_HOST": PUBLIC_HOST, "CIVICPULSE_PARTNER_AMQP_TLS": "true",
           "CIVICPULSE_PARTNER_AMQP_PORT": str(node.tls_port),
           "CIVICPULSE_PARTNER_TLS_CA": str(node.home / "ca.pem"),
           "LIAISON_DATABASE_URL":
               f"sqlite:///{tmp_path_factory.mktemp('liaison') / 'liaison.db'}"}
    result = CliRunner().invoke(partners, ["add", "cac"], env=env)
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)


def share(node: TlsBroker, n: int) -> list[str]:
    """What the outbox relay does for a share: the envelope on civicpulse.partners, key cac."""
    events = [Envelope("liaison.ticket.opened", {"ticket_id": f"tkt-{i}"}, "liaison", "inc-tls",
                       tlp="AMBER") for i in range(n)]
    with pika.BlockingConnection(pika.URLParameters(node.internal_uri)) as conn:
        ch = conn.channel()
        for e in events:
            ch.basic_publish(PARTNER_EXCHANGE, "cac", e.to_json().encode(),
                             pika.BasicProperties(delivery_mode=2))
    return [e.id for e in events]


def run_example(cmd: list[str], creds: dict[str, str], ca: str | None
                ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CIVICPULSE_AMQP_URI": creds["amqp_uri"], "IDLE_SECONDS": "1.5"}
    env.pop("CIVICPULSE_TLS_CA", None)
    if ca:
        env["CIVICPULSE_TLS_CA"] = ca
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30,
                          check=False)


def ids(stdout: str) -> list[str]:
    return [e["id"] for e in json_values(stdout)]


def test_partners_add_prints_amqps_for_the_public_host(node: TlsBroker,
                                                       creds: dict[str, str]) -> None:
    assert creds["amqp_uri"].startswith("amqps://partner-cac:")
    assert creds["amqp_uri"].endswith(f"@{PUBLIC_HOST}:{node.tls_port}/%2F")
    assert (creds["host"], creds["port"], creds["vhost"], creds["tls"]) == (
        PUBLIC_HOST, str(node.tls_port), "/", "true")
    assert creds["tls_ca"] == str(node.home / "ca.pem") and creds["queue"] == "partner.cac"


@pytest.mark.parametrize("client", ["python", "node", "amqp-consume"])
def test_consume_over_amqps_verifying_the_server(node: TlsBroker, creds: dict[str, str],
                                                 client: str) -> None:
    sent = share(node, 3)
    ca = str(node.home / "ca.pem")
    if client == "amqp-consume":
        out = subprocess.run(["amqp-consume", f"--url={creds['amqp_uri']}", "--ssl",
                              f"--cacert={ca}", "-q", creds["queue"], "-c", "3", "cat"],
                             capture_output=True, text=True, timeout=30, check=False)
    else:
        cmd = ["node", str(ROOT / "examples/node/consume.js")] if client == "node" else \
            [sys.executable, str(ROOT / "examples/python/consume.py")]
        out = run_example(cmd, creds, ca)
    assert out.returncode == 0, out.stderr[-1500:]
    assert ids(out.stdout) == sent

    if client != "amqp-consume":  # the system trust store does not know the test's CA
        untrusted = run_example(cmd, creds, None)
        assert untrusted.returncode != 0 and not untrusted.stdout
        assert "certificate" in untrusted.stderr.lower() or "CERT" in untrusted.stderr


def test_plain_amqp_with_partner_credentials_is_refused_on_the_partner_address(
        node: TlsBroker, creds: dict[str, str]) -> None:
    plain = creds["amqp_uri"].replace("amqps://", "amqp://", 1)
    for port in (node.tls_port, node.amqp_port):  # TLS port without TLS; the plain port
        params = pika.URLParameters(plain.replace(f":{node.tls_port}/", f":{port}/"))
        params.connection_attempts, params.socket_timeout = 1, 3
        with pytest.raises(pika.exceptions.AMQPConnectionError):
            pika.BlockingConnection(params).close()


def test_compose_and_kubernetes_mount_and_expose_the_tls_listener() -> None:
    conf = (ROOT / "deploy/rabbitmq/rabbitmq.conf").read_text()
    assert "listeners.ssl.default = 5671" in conf
    rabbit = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["rabbitmq"]
    assert "5671:5671" in rabbit["ports"]
    assert any(v.endswith(":/etc/rabbitmq/tls:ro") and "RABBITMQ_TLS_DIR" in v
               for v in rabbit["volumes"])
    k8s = list(yaml.safe_load_all((ROOT / "deploy/k8s/rabbitmq-tls.yaml").read_text()))
    service = next(d for d in k8s if d["kind"] == "Service")
    assert [p["port"] for p in service["spec"]["ports"]] == [5671]
    endpoint = next(d for d in k8s if d["kind"] == "ConfigMap")
    assert endpoint["data"]["CIVICPULSE_PARTNER_AMQP_TLS"] == "true"
    liaison = (ROOT / "deploy/k8s/liaison.yaml").read_text()
    assert endpoint["metadata"]["name"] in liaison
