"""A RabbitMQ node of a test's own: the one way the tests start an extra broker node.

The machine's broker (5672) is shared with other work and is never touched. A node here gets its
own node name, config file (listeners chosen by the caller), distribution port, mnesia and log
directories, and runs as the `rabbitmq` user (runuser) so its Erlang cookie matches
`rabbitmqctl`'s. It runs /usr/lib/rabbitmq/bin/rabbitmq-server directly: the /usr/sbin wrapper,
run as rabbitmq, would write the machine node's /var/log/rabbitmq/startup_log; this one logs to
`<home>/node.out`. Users: the fault suite's nodes (tests/faults/rabbit.py) and the TLS broker
(tests/integration/tls_broker.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import free_port  # noqa: F401 - one port picker for the run

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
DEFAULT_LIMITS = ("loopback_users = none", "vm_memory_high_watermark.relative = 0.2",
                  "disk_free_limit.absolute = 50MB")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def as_rabbitmq(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "rabbitmq", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class OwnNode:
    """One node in `home`: `conf` (rabbitmq.conf lines: listeners and the rest) and `plugins`
    are the caller's; `spawn()` + `wait_up()` (or `start()`), `ctl(...)`, `stop()`, `kill()`."""

    home: Path
    conf: Sequence[str] = ()
    plugins: Sequence[str] = ()
    prefix: str = "cpnode"
    name: str = ""
    dist_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.name = self.name or f"{self.prefix}{uuid.uuid4().hex[:8]}@localhost"

    @property
    def short(self) -> str:
        return self.name.split("@", 1)[0]

    def _environment(self) -> dict[str, str]:
        for sub in ("mnesia", "log"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        (self.home / "rabbitmq.conf").write_text("\n".join([*self.conf, *DEFAULT_LIMITS, ""]))
        (self.home / "enabled_plugins").write_text(f"[{','.join(self.plugins)}].\n")
        (self.home / "rabbitmq-env.conf").write_text("")
        os.chmod(self.home, 0o755)
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

    def spawn(self) -> None:
        env = [f"{k}={v}" for k, v in self._environment().items()]
        with open(self.home / "node.out", "ab") as out:
            self.proc = subprocess.Popen(as_rabbitmq(["env", *env, SERVER]), stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def wait_up(self, listening: Sequence[tuple[str, int]] = (), timeout: float = 90.0) -> None:
        """Until `rabbitmqctl await_startup` succeeds and every (host, port) accepts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            if all(port_open(port, host) for host, port in listening) and self._started():
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
            return (self.home / "node.out").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def ctl(self, *args: str, check: bool = True, timeout: float = 60.0
            ) -> subprocess.CompletedProcess[str]:
        cmd = as_rabbitmq(["env", "ERL_EPMD_ADDRESS=127.0.0.1", "HOME=/var/lib/rabbitmq",
                           "rabbitmqctl", "-n", self.name, *args])
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if check and out.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.name}: "
                               f"{out.stdout[-500:]} {out.stderr[-1000:]}")
        return out

    def stop(self, timeout: float = 60.0) -> None:
        """A clean shutdown (`rabbitmqctl stop`), killed if it takes longer than `timeout`."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.ctl("stop", check=False, timeout=timeout)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Gone at once (its data is thrown away anyway)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None
