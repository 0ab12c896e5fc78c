"""A RabbitMQ node of the TLS tests' own, with a CA and a server certificate made by the test.

The machine's broker (5672) is shared and never touched. This node has its own node name,
ports, config, mnesia and log directories, and runs as the `rabbitmq` user (runuser) so its
Erlang cookie matches `rabbitmqctl`'s. Its listeners are laid out as deploy/rabbitmq/ lays out
a production broker: the plain listener on the internal address only (here 127.0.0.2, what the
services use), the TLS listener on the address partners reach (here `localhost`, 127.0.0.1, the
"public host"), the management API for `civicpulse partners add`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

# The real script: /usr/sbin/rabbitmq-server, run as rabbitmq, writes the machine node's
# /var/log/rabbitmq/startup_log; this one logs to our own stdout.
SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
INTERNAL_HOST = "127.0.0.2"
PUBLIC_HOST = "localhost"  # a name, not an IP: rabbitmq-c checks the certificate's DNS names
PUBLIC_ADDRESS = "127.0.0.1"
DEPLOYED_CONF = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "rabbitmq.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def _as_rabbitmq(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "rabbitmq", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class TlsBroker:
    home: Path
    name: str = field(default_factory=lambda: f"cptls{uuid.uuid4().hex[:8]}@localhost")
    amqp_port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    mgmt_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def internal_uri(self) -> str:
        return f"amqp://guest:guest@{INTERNAL_HOST}:{self.amqp_port}/"

    @property
    def management_url(self) -> str:
        return f"http://guest:guest@{PUBLIC_ADDRESS}:{self.mgmt_port}"

    def _configure(self) -> dict[str, str]:
        certs = make_ca_and_server_cert(self.home)
        (self.home / "mnesia").mkdir()
        (self.home / "log").mkdir()
        (self.home / "rabbitmq.conf").write_text("\n".join([
            f"listeners.tcp.1 = {INTERNAL_HOST}:{self.amqp_port}",
            f"listeners.ssl.1 = {PUBLIC_ADDRESS}:{self.tls_port}",
            *deployed_ssl_options(certs),
            f"management.tcp.ip = {PUBLIC_ADDRESS}",
            f"management.tcp.port = {self.mgmt_port}",
            "loopback_users = none",
            "vm_memory_high_watermark.relative = 0.2",
            "disk_free_limit.absolute = 50MB", ""]))
        (self.home / "enabled_plugins").write_text("[rabbitmq_management].\n")
        (self.home / "rabbitmq-env.conf").write_text("")
        if os.geteuid() == 0:
            for path in [self.home, *self.home.rglob("*")]:
                shutil.chown(path, "rabbitmq", "rabbitmq")
        return {"RABBITMQ_NODENAME": self.name, "RABBITMQ_DIST_PORT": str(self.dist_port),
                "RABBITMQ_CONFIG_FILE": str(self.home / "rabbitmq"),
                "RABBITMQ_CONF_ENV_FILE": str(self.home / "rabbitmq-env.conf"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.home / "enabled_plugins"),
                "RABBITMQ_MNESIA_BASE": str(self.home / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.home / "log"),
                "RABBITMQ_PID_FILE": str(self.home / "node.pid"),
                "ERL_EPMD_ADDRESS": "127.0.0.1", "HOME": "/var/lib/rabbitmq"}

    def start(self, timeout: float = 90.0) -> TlsBroker:
        os.chmod(self.home, 0o755)
        env = [f"{k}={v}" for k, v in self._configure().items()]
        out = open(self.home / "node.out", "ab")  # noqa: SIM115 - lives with the node
        self.proc = subprocess.Popen(_as_rabbitmq(["env", *env, SERVER]),
                                     stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_up(timeout)
        return self

    def _wait_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            if self.ctl("await_startup", timeout=60).returncode == 0 and _listening(
                    PUBLIC_ADDRESS, self.mgmt_port):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} not up after {timeout:.0f}s: {self.tail()}")

    def tail(self) -> str:
        return (self.home / "node.out").read_text(errors="replace")[-2000:]

    def ctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        cmd = _as_rabbitmq(["env", "ERL_EPMD_ADDRESS=127.0.0.1", "HOME=/var/lib/rabbitmq",
                            "rabbitmqctl", "-n", self.name, *args])
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def stop(self) -> None:
        """SIGTERM to the node's process group (it shuts down; its data is thrown away)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False
