"""`civicpulse run`: start the suite the best way this machine allows, and keep it running.

If RabbitMQ answers at AMQP_URI every service runs as its own `nameko run` process (or several:
`CIVICPULSE_REPLICAS=2`, or `liaison=2,news=3`); if not, the whole suite runs in one embedded
process on kombu's memory:// transport with SQLite under var/.

The launcher supervises: a process that dies is reported (which one, its exit code or signal,
the last lines of its log) and started again after a backoff (1 s, doubling while it keeps
dying within `STABLE_SECONDS`, at most `MAX_BACKOFF`). Ctrl-C (or SIGTERM) stops every process
cleanly. Each process writes its log to `<log dir>/<replica>.log` (var/logs for `make run`).
"""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import kombu
import requests

from civicpulse import production, settings
from civicpulse.logs import log_format, render
from civicpulse.redaction import redact_url
from civicpulse.settings import SERVICE_CLASSES, SERVICES, amqp_uri, for_service, var_dir

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_SECONDS = 30.0  # a process that lived this long before dying restarts without delay
TAIL_LINES = 12
EMBEDDED_LIMITS = (
    "run: embedded mode keeps messages in this process's memory: retries and redelivery work, "
    "but a crash or kill of the process loses every event not yet handled (the outbox rows "
    "already published included). Run RabbitMQ for the at-least-once guarantee across crashes.")


def broker_answers(uri: str, timeout: float = 2.0) -> bool:
    try:
        with kombu.Connection(uri, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def service_config(name: str) -> Path:
    """The service's nameko.yaml, found through the installed package (no import)."""
    spec = importlib.util.find_spec(f"services.{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"service package services.{name} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "config" / "nameko.yaml"


def nameko_command(name: str) -> list[str]:
    """`nameko run --config <nameko.yaml> <class>` through `civicpulse.serve` (no dependency
    deprecation noise)."""
    return [sys.executable, "-m", "civicpulse.serve", "--config", str(service_config(name)),
            SERVICE_CLASSES[name]]


_GIVEN_PORTS: set[int] = set()


def free_port() -> int:
    """A TCP port nothing listens on now and not handed out before by this process (replicas
    after the first, tests' services). The kernel may offer a port again once the probe closes,
    and the services' web servers bind with SO_REUSEPORT (eventlet's default), so two services
    given one port would both start and split its connections."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port


def parse_replicas(spec: str) -> dict[str, int]:
    """`"2"` → two of every service; `"liaison=2,news=3"` → those counts, one of the rest."""
    spec = spec.strip()
    if not spec:
        return {}
    if spec.isdigit():
        return dict.fromkeys(SERVICES, int(spec))
    counts = {}
    for part in spec.split(","):
        name, _, n = part.partition("=")
        if name.strip() not in SERVICES or not n.strip().isdigit():
            raise ValueError(f"CIVICPULSE_REPLICAS: cannot read {part!r} (want NAME=N)")
        counts[name.strip()] = int(n)
    return counts


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def tail(path: Path | None, lines: int = TAIL_LINES) -> list[str]:
    if path is None or not path.exists():
        return []
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 16384))
        return f.read().decode(errors="replace").splitlines()[-lines:]


@dataclass
class Death:
    replica: str
    pid: int
    returncode: int
    last_lines: list[str]
    restart_in: float

    def describe(self) -> str:
        head = (f"run: {self.replica} (pid {self.pid}) died: {exit_reason(self.returncode)}; "
                f"restarting in {self.restart_in:.0f}s")
        if not self.last_lines:
            return head
        return head + "; last log lines:\n" + "\n".join(f"  | {line}" for line in self.last_lines)


@dataclass
class Replica:
    """One supervised process: a service replica, or the embedded suite."""

    name: str
    service: str
    cmd: list[str]
    env: dict[str, str]
    http_port: int
    log_path: Path | None
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    quick_deaths: int = 0
    restart_at: float | None = None
    deaths: list[Death] = field(default_factory=list)

    def spawn(self) -> None:
        out = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            out = open(self.log_path, "ab")  # noqa: SIM115 - lives with the process
        try:
            self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT if out else None,
                                         start_new_session=True)
        finally:
            if out is not None:
                out.close()  # the child holds its own descriptor
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check(self, now: float) -> Death | None:
        """Note a death (scheduling the restart) or restart when its backoff is over."""
        if self.proc is None or self.alive():
            return None
        if self.restart_at is None:
            lived = now - self.started_at
            self.quick_deaths = 0 if lived >= STABLE_SECONDS else self.quick_deaths + 1
            delay = 0.0 if self.quick_deaths == 0 else min(
                MAX_BACKOFF, FIRST_BACKOFF * 2 ** (self.quick_deaths - 1))
            self.restart_at = now + delay
            death = Death(self.name, self.proc.pid, self.proc.returncode or 0,
                          tail(self.log_path), delay)
            self.deaths.append(death)
            return death
        if now >= self.restart_at:
            self.restarts += 1
            self.spawn()
        return None

    def terminate(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)


class Suite:
    """The running processes, supervised; `stop()` terminates them in reverse order."""

    def __init__(self, report: Callable[[str], None] | None = None) -> None:
        self.replicas: list[Replica] = []
        self.mode = ""
        self._report = report or (lambda text: print(text, file=sys.stderr, flush=True))
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._checking = threading.Lock()  # the background thread and wait_ready() both check

    @property
    def procs(self) -> dict[str, subprocess.Popen]:
        return {r.name: r.proc for r in self.replicas if r.proc is not None}

    def of(self, service: str) -> list[Replica]:
        return [r for r in self.replicas if r.service == service]

    def start(self, mode: str = "auto", env: Mapping[str, str] | None = None,
              log_dir: Path | None = None, replicas: Mapping[str, int] | None = None,
              supervise: bool = False, services: Sequence[str] = SERVICES) -> str:
        """Start the suite; `replicas` (or CIVICPULSE_REPLICAS) runs several processes of a
        service (processes mode only; `services` may pick a subset); `supervise` restarts dead
        ones from a background thread (`run()` supervises from its own loop instead)."""
        # each process logs JSON lines to its file; `run` shows them on the terminal
        full_env = {**settings.environment(), **(env or {}), "CIVICPULSE_LOG_FORMAT": "json"}
        uri = full_env.get("AMQP_URI", amqp_uri())
        self.mode = mode if mode != "auto" else ("processes" if broker_answers(uri) else "embedded")
        if self.mode == "processes":
            counts = {**parse_replicas(full_env.get("CIVICPULSE_REPLICAS", "")),
                      **(replicas or {})}
            for name in services:
                self._add_service(name, counts.get(name, 1), full_env, log_dir)
        else:
            cmd = [sys.executable, "-m", "civicpulse.embedded"]
            log_path = log_dir / "embedded.log" if log_dir else None
            self.replicas.append(Replica("embedded", "embedded", cmd, full_env, 0, log_path))
        for replica in self.replicas:
            replica.spawn()
        if supervise:
            self._supervisor = threading.Thread(target=self._supervise_loop, daemon=True,
                                                name="civicpulse-supervisor")
            self._supervisor.start()
        return self.mode

    def _add_service(self, name: str, count: int, env: dict[str, str],
                     log_dir: Path | None) -> None:
        port_var = f"{name.upper()}_HTTP_PORT"
        own_uri = env.get(f"{name.upper()}_AMQP_URI")  # the service's own broker user
        if own_uri:
            env = {**env, "AMQP_URI": own_uri}
        for i in range(max(1, count)):
            replica = name if i == 0 else f"{name}-{i + 1}"
            port = int(env.get(port_var, for_service(name).http_port)) if i == 0 else free_port()
            self.replicas.append(Replica(
                replica, name, nameko_command(name),
                {**env, port_var: str(port), "CIVICPULSE_REPLICA": replica}, port,
                log_dir / f"{replica}.log" if log_dir else None))

    def supervise(self) -> list[Death]:
        """One pass: report processes that died, restart those whose backoff is over."""
        if self._stopping.is_set():
            return []
        deaths = []
        with self._checking:
            now = time.monotonic()
            for replica in self.replicas:
                if (death := replica.check(now)) is not None:
                    deaths.append(death)
        for death in deaths:
            self._report(death.describe())
        return deaths

    def _supervise_loop(self) -> None:
        while not self._stopping.wait(0.25):
            try:
                self.supervise()
            except Exception as exc:  # noqa: BLE001 - the supervisor must outlive one failure
                self._report(f"run: supervisor: {exc}")

    @property
    def deaths(self) -> list[Death]:
        return [d for r in self.replicas for d in r.deaths]

    def wait_ready(self, timeout: float = 90.0, max_deaths: int = 3) -> None:
        """Wait until every replica answers /readyz (restarting any that die meanwhile); give
        up when one died `max_deaths` times, which means it cannot start at all."""
        deadline = time.monotonic() + timeout
        pending = self._ports()
        while pending:
            self.supervise()
            for replica in self.replicas:
                if len(replica.deaths) >= max_deaths:
                    raise RuntimeError(replica.deaths[-1].describe())
            pending = [(r, port) for r, port in pending if not _ready(port)]
            if pending and time.monotonic() > deadline:
                names = sorted({r.name for r, _ in pending})
                raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(names)}")
            if pending:
                time.sleep(0.3)

    def _ports(self) -> list[tuple[Replica, int]]:
        """Where each replica answers HTTP (the embedded process answers on every port)."""
        pairs = []
        for r in self.replicas:
            if r.service == "embedded":
                pairs += [(r, for_service(name).http_port) for name in SERVICES]
            else:
                pairs.append((r, r.http_port))
        return pairs

    def stop(self, timeout: float = 20.0) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        for replica in reversed(self.replicas):
            replica.terminate()
        deadline = time.monotonic() + timeout
        for replica in self.replicas:
            if replica.proc is None:
                continue
            try:
                replica.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                replica.proc.kill()
                replica.proc.wait()


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def describe(mode: str, uri: str) -> str:
    uri = redact_url(uri)  # never print the broker password
    if mode == "processes":
        return (f"run: RabbitMQ answers at {uri}: each service runs as its own process; "
                "partners can subscribe to their queues on this broker.")
    return (f"run: RabbitMQ does not answer at {uri}: running the EMBEDDED single-process mode "
            "(kombu memory:// transport, SQLite files under var/). Partners cannot subscribe "
            "in this mode: there is no broker for them to connect to.\n" + EMBEDDED_LIMITS)


def describe_environment() -> str:
    if production.is_production():
        return ("run: CIVICPULSE_ENV=production: a service with a missing or default secret "
                "refuses to start (docs/security.md).")
    return (f"run: development mode (CIVICPULSE_ENV): a secret you have not set (the "
            f"pseudonymisation key, a webhook secret) is generated once and kept under "
            f"{var_dir() / 'secrets'}/; production refuses that (docs/security.md).")


class LogFollower:
    """Shows the processes' new log lines on the launcher's terminal (`civicpulse.logs.render`:
    human lines on a terminal, JSON otherwise); the files under var/logs keep everything."""

    def __init__(self, suite: Suite, fmt: str, write: Callable[[str], None] | None = None
                 ) -> None:
        self.suite = suite
        self.fmt = fmt
        self.write = write or (lambda text: print(text, flush=True))
        self._offsets: dict[Path, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def mark(self) -> None:
        """Start from the files' current ends (older runs' lines are not shown again)."""
        for replica in self.suite.replicas:
            if replica.log_path is not None:
                path = replica.log_path
                self._offsets[path] = path.stat().st_size if path.exists() else 0

    def poll(self) -> None:
        for replica in self.suite.replicas:
            path = replica.log_path
            if path is None or not path.exists():
                continue
            offset = self._offsets.get(path, 0)
            if path.stat().st_size < offset:
                offset = 0  # the file was truncated or replaced
            with path.open("rb") as f:
                f.seek(offset)
                chunk = f.read()
            complete = chunk[:chunk.rfind(b"\n") + 1]
            self._offsets[path] = offset + len(complete)
            for line in complete.decode(errors="replace").splitlines():
                if (text := render(replica.name, line, self.fmt)) is not None:
                    self.write(text)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="civicpulse-logs")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.3):
            try:
                self.poll()
            except OSError:
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.poll()


def addresses(suite: Suite) -> list[tuple[str, str]]:
    """(name, URL) of every HTTP endpoint the running suite answers on."""
    if suite.mode == "embedded":
        found = [(name, for_service(name).http_port) for name in SERVICES]
    else:
        found = [(r.name, r.http_port) for r in suite.replicas]
    return [(name, f"http://127.0.0.1:{port}/") for name, port in found]


HINTS = {"console": "工作台: staff sign in here, partner agencies at /partner/login",
         "identity": "staff accounts"}


def banner(suite: Suite, uri: str, logs: Path) -> str:
    """What `make run` prints once everything answers: mode, addresses, the first account."""
    mode = ("processes: one process per service on RabbitMQ at " + redact_url(uri)
            if suite.mode == "processes" else
            "embedded: every service in one process on memory:// (no RabbitMQ answered)")
    lines = ["", "CivicPulse is running", f"  mode      {mode}"]
    for name, url in addresses(suite):
        hint = f"  ({HINTS[name]})" if name in HINTS else ""
        lines.append(f"  {name:<10}{url}{hint}")
    lines += [
        "  first account (an administrator; the password is read from stdin):",
        "            civicpulse users add NAME --role admin",
        "            civicpulse users set-password NAME",
        f"  logs      {logs}/<name>.log (everything, JSON); below: warnings and the",
        "            services' own messages (CIVICPULSE_LOG_FORMAT=json|human to choose)",
        "run: ready. Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def run(mode: str = "auto") -> int:
    suite = Suite()
    stopping = False

    def _stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    logs = var_dir() / "logs"
    chosen = suite.start(mode, log_dir=logs)
    follower = LogFollower(suite, log_format(sys.stdout))
    follower.mark()
    print(describe(chosen, amqp_uri()), flush=True)
    print(describe_environment(), flush=True)
    print("run: starting; a process that dies is restarted.", flush=True)
    try:
        suite.wait_ready()
        print(banner(suite, amqp_uri(), logs), flush=True)
        follower.start()
        while not stopping:
            suite.supervise()
            time.sleep(0.5)
        return 0
    except (TimeoutError, RuntimeError) as exc:
        follower.poll()
        print(f"run: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        suite.stop()
        follower.stop()
        print("run: stopped.", flush=True)
