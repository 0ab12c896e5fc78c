"""Faults at seeded random moments of the replay, each one logged with its time.

Kinds: `kill` (SIGKILL one service replica; the launcher's supervisor restarts it),
`broker` (restart a RabbitMQ node, or stop one node of a cluster for good), `db` (terminate
every PostgreSQL session of the suite's databases), `close` (the broker closes every client
connection: relays lose their channel mid-batch), `nack` (for a few seconds an empty sink queue
with `max-length 0, reject-publish` is bound to every event exchange: the broker nacks what the
relays publish, while the real queues still receive it).

The nack fault must not touch the real queues: a `max-length` policy applied to a queue that
already holds messages makes the broker discard them at once (checked on 3.10.8: five ready
messages, policy `max-length 0, reject-publish` applied, zero left). That is an operator deleting
messages, not a fault the bus can survive, and it is what the first version of this fault did.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections import Counter
from dataclasses import dataclass, field

import kombu

from civicpulse.launcher import Suite
from tests.faults.harness import Clock, Databases, say
from tests.faults.rabbit import Cluster

NACK_POLICY = "cpfault-nack"
NACK_SINK = "cpfault.nack-sink"
NACK_PATTERN = r"^cpfault\.nack-sink$"
EVENT_EXCHANGES = ("sentiment.events", "liaison.events", "news.events", "review.events")


@dataclass(order=True)
class Fault:
    at: float
    kind: str = field(compare=False)
    target: str = field(compare=False, default="")
    arg: float = field(compare=False, default=0.0)


def schedule(seed: int, window: tuple[float, float], replicas: list[str], *,
             broker_restarts: int, db_kills: int, closes: int, nacks: int,
             broker_target: str = "restart") -> list[Fault]:
    """The faults of one run, at seeded random moments inside `window` (seconds)."""
    rng = random.Random(seed)
    lo, hi = window

    def at() -> float:
        return round(rng.uniform(lo, hi), 1)

    faults = [Fault(at(), "kill", name) for name in replicas]
    faults += [Fault(at(), "broker", broker_target) for _ in range(broker_restarts)]
    faults += [Fault(at(), "db") for _ in range(db_kills)]
    faults += [Fault(at(), "close") for _ in range(closes)]
    faults += [Fault(at(), "nack", "", float(rng.choice((0, 1)))) for _ in range(nacks)]
    return sorted(faults)


class Injector(threading.Thread):
    """Applies a schedule against the running suite, broker and databases."""

    def __init__(self, faults: list[Fault], clock: Clock, suite: Suite, cluster: Cluster,
                 dbs: Databases) -> None:
        super().__init__(daemon=True, name="fault-injector")
        self.faults = faults
        self.clock = clock
        self.suite = suite
        self.cluster = cluster
        self.dbs = dbs
        self.done = Counter[str]()
        self.errors: list[str] = []
        self.stopped_node: str | None = None
        self._broker_lock = threading.Lock()

    def run(self) -> None:
        """Each fault in its own thread at its moment: a slow one (a broker restart takes
        seconds) delays none of the others."""
        threads = [threading.Thread(target=self._apply, args=(f,), daemon=True)
                   for f in self.faults]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _apply(self, fault: Fault) -> None:
        wait = fault.at - self.clock()
        if wait > 0:
            threading.Event().wait(wait)
        try:
            detail = self._inject(fault)
            self.done[fault.kind] += 1
            say(f"faults: {self.clock():7.1f}s {fault.kind:<6} {detail}")
        except Exception as exc:  # noqa: BLE001 - record, keep injecting
            self.errors.append(f"{fault.kind} {fault.target}: {exc}")
            say(f"faults: {self.clock():7.1f}s {fault.kind:<6} FAILED: {exc}")

    def _inject(self, fault: Fault) -> str:
        if fault.kind in ("kill", "db"):
            return getattr(self, f"_{fault.kind}")(fault)
        with self._broker_lock:  # one broker operation at a time
            return getattr(self, f"_{fault.kind}")(fault)

    def _kill(self, fault: Fault) -> str:
        replica = next(r for r in self.suite.replicas if r.name == fault.target)
        for _ in range(120):  # died on its own just now? the supervisor brings it back
            if replica.alive():
                break
            threading.Event().wait(0.5)
        if replica.proc is None or not replica.alive():
            raise RuntimeError(f"{fault.target} was not running")
        pid = replica.proc.pid
        os.kill(pid, signal.SIGKILL)
        return f"SIGKILL {fault.target} (pid {pid})"

    def _broker(self, fault: Fault) -> str:
        if fault.target == "stop-one":
            # Not the node every client connected to first: that one also holds nameko's RPC
            # queues, which stay classic (docs/reliability.md); the stopped node holds a replica
            # of every other queue.
            node = self.cluster.nodes[-1]
            node.stop()
            self.stopped_node = node.name
            return f"stopped cluster node {node.name} (left down)"
        node = self.cluster.nodes[0]
        node.restart()
        return f"restarted {node.name}"

    def _db(self, fault: Fault) -> str:
        return f"pg_terminate_backend: {self.dbs.terminate_sessions()} sessions"

    def _close(self, fault: Fault) -> str:
        for node in self._up():
            node.ctl("close_all_connections", "fault suite")
        return "the broker closed every client connection"

    def _nack(self, fault: Fault) -> str:
        """Bind an empty, always-full sink queue to every event exchange for 4 s: every event a
        relay publishes then is nacked (and also reaches its real queues, so the relay's retry
        is a duplicate the inboxes must absorb)."""
        node = self._up()[0]
        node.ctl("set_policy", "--apply-to", "queues", "--priority", "100", NACK_POLICY,
                 NACK_PATTERN, '{"max-length": 0, "overflow": "reject-publish"}')
        with kombu.Connection(node.uri, connect_timeout=10) as conn:
            channel = conn.channel()
            sink = kombu.Queue(NACK_SINK, durable=False, auto_delete=False, channel=channel)
            sink.declare()
            bound = []
            for name in EVENT_EXCHANGES:
                try:
                    channel.queue_bind(NACK_SINK, name, "#")
                    bound.append(name)
                except Exception:  # noqa: BLE001 - exchange not declared yet; channel is closed
                    channel = conn.channel()
            threading.Event().wait(4.0)
            channel = conn.channel()
            for name in bound:
                channel.queue_unbind(NACK_SINK, name, "#")
        return f"nack sink bound to {', '.join(bound)} for 4 s"

    def _up(self) -> list:
        return [n for n in self.cluster.nodes if n.proc is not None]
