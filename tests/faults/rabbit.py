"""RabbitMQ nodes of the fault suite's own: started, stopped and clustered by the test.

The machine's broker (5672) is shared with other work and is never touched. Each node here
gets its own node name, AMQP and distribution ports, config file, mnesia and log directories,
and runs as the `rabbitmq` user (runuser) so its Erlang cookie matches `rabbitmqctl`'s. No
plugin is enabled (faster start; `rabbitmqctl` does all the fault injection).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _as_rabbitmq(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "rabbitmq", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class RabbitNode:
    """One node: `start()`, `stop()`, `restart()`; `uri` for clients."""

    base: Path
    name: str = field(default_factory=lambda: f"cpfault{uuid.uuid4().hex[:8]}@localhost")
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def short(self) -> str:
        return self.name.split("@", 1)[0]

    def _files(self) -> dict[str, str]:
        home = self.base / self.short
        for sub in ("mnesia", "log"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        conf = home / "rabbitmq.conf"
        conf.write_text(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
                        "loopback_users = none\n"
                        "vm_memory_high_watermark.relative = 0.2\n"
                        "disk_free_limit.absolute = 50MB\n"
                        "cluster_partition_handling = pause_minority\n")
        env_file = home / "rabbitmq-env.conf"
        env_file.write_text("")
        plugins = home / "enabled_plugins"
        plugins.write_text("[].\n")
        shutil.chown(self.base, "rabbitmq", "rabbitmq") if os.geteuid() == 0 else None
        for path in home.rglob("*"):
            if os.geteuid() == 0:
                shutil.chown(path, "rabbitmq", "rabbitmq")
        if os.geteuid() == 0:
            shutil.chown(home, "rabbitmq", "rabbitmq")
        return {
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(conf.with_suffix("")),
            "RABBITMQ_CONF_ENV_FILE": str(env_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
            "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(home / "log"),
            "RABBITMQ_PID_FILE": str(home / "node.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "HOME": "/var/lib/rabbitmq",
        }

    def _env_args(self) -> list[str]:
        return [f"{k}={v}" for k, v in self._files().items()]

    def start(self, timeout: float = 90.0) -> None:
        self.spawn()
        self.wait_up(timeout)

    def spawn(self) -> None:
        cmd = _as_rabbitmq(["env", *self._env_args(), "rabbitmq-server"])
        with open(self.base / f"{self.short}.out", "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def wait_up(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            if port_open(self.port) and self._started():
                return
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} not up after {timeout:.0f}s: {self.tail()}")

    def _started(self) -> bool:
        try:
            return self.ctl("await_startup", check=False, timeout=30).returncode == 0
        except subprocess.TimeoutExpired:  # a loaded machine: ask again
            return False

    def tail(self) -> str:
        try:
            return (self.base / f"{self.short}.out").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def ctl(self, *args: str, check: bool = True, timeout: float = 60.0
            ) -> subprocess.CompletedProcess[str]:
        cmd = _as_rabbitmq(["env", "ERL_EPMD_ADDRESS=127.0.0.1", "HOME=/var/lib/rabbitmq",
                            "rabbitmqctl", "-n", self.name, *args])
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if check and out.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.name}: "
                               f"{out.stdout[-500:]} {out.stderr[-1000:]}")
        return out

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.ctl("stop", check=False, timeout=timeout)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close_connections(self, name_contains: str = "", reason: str = "fault") -> int:
        """Close every client connection (or those whose client-provided name or peer port
        matches); return how many."""
        out = self.ctl("list_connections", "pid", "client_properties", "-q", check=False)
        closed = 0
        for line in out.stdout.splitlines():
            pid, _, props = line.partition("\t")
            if not pid.startswith("<") or (name_contains and name_contains not in props):
                continue
            if self.ctl("close_connection", pid, reason, check=False).returncode == 0:
                closed += 1
        return closed


@dataclass
class Cluster:
    """Nodes of the fault suite's own; one node, or three joined into a cluster."""

    size: int = 1
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cpfault-rmq-")))
    nodes: list[RabbitNode] = field(default_factory=list)

    def start(self) -> Cluster:
        os.chmod(self.base, 0o755)
        self.nodes = [RabbitNode(self.base) for _ in range(self.size)]
        try:
            for node in self.nodes:  # booting side by side
                node.spawn()
            for node in self.nodes:
                node.wait_up()
            first = self.nodes[0]
            for node in self.nodes[1:]:
                node.ctl("stop_app")
                node.ctl("join_cluster", first.name)
                node.ctl("start_app")
        except BaseException:
            self.stop()  # no node left behind
            raise
        return self

    @property
    def uri(self) -> str:
        """The first node's URI, with the others as failover alternatives (kombu's `;`)."""
        return ";".join(n.uri for n in self.nodes)

    def stop(self) -> None:
        """Tear down: the nodes' data is thrown away, so they are killed, not stopped."""
        for node in self.nodes:
            if node.proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.proc.pid, signal.SIGKILL)
                node.proc.wait()
                node.proc = None
        shutil.rmtree(self.base, ignore_errors=True)
