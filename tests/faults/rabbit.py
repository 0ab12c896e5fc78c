"""RabbitMQ nodes of the fault suite's own: started, stopped and clustered by the test.

Each is a `tests.support.rabbit_node.OwnNode` (own name, ports, config, data; never the
machine's broker) with plain AMQP on its own port and no plugin (faster start; `rabbitmqctl`
does all the fault injection).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.rabbit_node import OwnNode, free_port

__all__ = ["Cluster", "RabbitNode", "free_port"]


class RabbitNode(OwnNode):
    """One node of the fault suite: plain AMQP on its own port, no plugin; `uri` for clients,
    `restart()` and `close_connections()` for the injector."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        short = f"cpfault{uuid.uuid4().hex[:8]}"
        super().__init__(Path(base) / short, name=f"{short}@localhost", conf=(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}",
            "cluster_partition_handling = pause_minority"))
        self.home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(base, "rabbitmq", "rabbitmq")

    @property
    def uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def start(self, timeout: float = 90.0) -> None:
        self.spawn()
        self.up(timeout)

    def up(self, timeout: float = 90.0) -> None:
        self.wait_up([("127.0.0.1", self.port)], timeout)

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
                node.up()
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
            node.kill()
        shutil.rmtree(self.base, ignore_errors=True)
