"""A RabbitMQ node of the TLS tests' own, with a CA and a server certificate made by the test.

The node itself is a `tests.support.rabbit_node.OwnNode` (own name, ports, config and data;
never the machine's broker). Its listeners are laid out as deploy/rabbitmq/ lays out
a production broker: the plain listener on the internal address only (here 127.0.0.2, what the
services use), the TLS listener on the address partners reach (here `localhost`, 127.0.0.1, the
"public host"), the management API for `civicpulse partners add`.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from tests.support.rabbit_node import OwnNode, free_port

__all__ = ["PUBLIC_HOST", "TlsBroker", "free_port", "make_ca_and_server_cert"]
INTERNAL_HOST = "127.0.0.2"
PUBLIC_HOST = "localhost"  # a name, not an IP: rabbitmq-c checks the certificate's DNS names
PUBLIC_ADDRESS = "127.0.0.1"
DEPLOYED_CONF = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "rabbitmq.conf"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca_and_server_cert(d: Path, prefix: str = "", san: str = "") -> dict[str, Path]:
    """A self-signed CA and a server certificate it signed for the public host (EC P-256)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", f"{prefix}ca.key", "-out", f"{prefix}ca.pem",
            "-days", "2", "-subj", f"/CN=CivicPulse test CA {uuid.uuid4().hex[:6]}", cwd=d)
    openssl("req", *ec, "-keyout", f"{prefix}server.key", "-out", f"{prefix}server.csr",
            "-subj", f"/CN={PUBLIC_HOST}", cwd=d)
    (d / f"{prefix}ext.cnf").write_text(f"subjectAltName=DNS:{PUBLIC_HOST}{san}\n")
    openssl("x509", "-req", "-in", f"{prefix}server.csr", "-CA", f"{prefix}ca.pem", "-CAkey",
            f"{prefix}ca.key", "-CAcreateserial", "-out", f"{prefix}server.pem", "-days", "2",
            "-extfile", f"{prefix}ext.cnf", cwd=d)
    return {"ca": d / f"{prefix}ca.pem", "server": d / f"{prefix}server.pem",
            "key": d / f"{prefix}server.key"}


def deployed_ssl_options(certs: dict[str, Path]) -> list[str]:
    """The `ssl_options.*` lines of deploy/rabbitmq/rabbitmq.conf, with the mounted
    /etc/rabbitmq/tls/ files replaced by the test's: the node boots the deployed TLS set-up."""
    mounted = {"/etc/rabbitmq/tls/ca.pem": certs["ca"],
               "/etc/rabbitmq/tls/server.pem": certs["server"],
               "/etc/rabbitmq/tls/server.key": certs["key"]}
    lines = [ln.strip() for ln in DEPLOYED_CONF.read_text().splitlines()
             if ln.startswith("ssl_options.")]
    for path, ours in mounted.items():
        lines = [ln.replace(path, str(ours)) for ln in lines]
    assert lines and not any("/etc/rabbitmq/" in ln for ln in lines), lines
    return lines


class TlsBroker(OwnNode):
    """The deployed TLS layout on a node of the test's own (tests.support.rabbit_node)."""

    def __init__(self, home: Path) -> None:
        self.amqp_port, self.tls_port, self.mgmt_port = free_port(), free_port(), free_port()
        super().__init__(home, prefix="cptls", plugins=("rabbitmq_management",))

    @property
    def internal_uri(self) -> str:
        return f"amqp://guest:guest@{INTERNAL_HOST}:{self.amqp_port}/"

    @property
    def management_url(self) -> str:
        return f"http://guest:guest@{PUBLIC_ADDRESS}:{self.mgmt_port}"

    def start(self, timeout: float = 90.0) -> TlsBroker:
        certs = make_ca_and_server_cert(self.home)
        self.conf = (f"listeners.tcp.1 = {INTERNAL_HOST}:{self.amqp_port}",
                     f"listeners.ssl.1 = {PUBLIC_ADDRESS}:{self.tls_port}",
                     *deployed_ssl_options(certs),
                     f"management.tcp.ip = {PUBLIC_ADDRESS}",
                     f"management.tcp.port = {self.mgmt_port}")
        self.spawn()
        self.wait_up([(PUBLIC_ADDRESS, self.mgmt_port)], timeout)
        return self
