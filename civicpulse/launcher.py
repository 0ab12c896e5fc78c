"""`civicpulse run`: start the suite the best way this machine allows.

If RabbitMQ answers at AMQP_URI every service runs as its own `nameko run` process; if not, the
whole suite runs in one embedded process on kombu's memory:// transport with SQLite under var/.
Ctrl-C (or SIGTERM) stops every process cleanly.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import kombu
import requests

from civicpulse.settings import SERVICE_CLASSES, SERVICES, amqp_uri, for_service


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
    bin_dir = Path(sys.executable).parent
    return [str(bin_dir / "nameko"), "run", "--config", str(service_config(name)),
            SERVICE_CLASSES[name]]


def wait_ready(names: tuple[str, ...], timeout: float = 90.0,
               procs: dict[str, subprocess.Popen] | None = None) -> None:
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        for name in list(pending):
            if procs and procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited with code {procs[name].returncode}")
            url = f"http://127.0.0.1:{for_service(name).http_port}/readyz"
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    pending.discard(name)
            except requests.RequestException:
                pass
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}")
        time.sleep(0.3)


class Suite:
    """The running processes; `stop()` terminates them in reverse order."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.mode = ""

    def start(self, mode: str = "auto", env: dict[str, str] | None = None,
              log_dir: Path | None = None) -> str:
        uri = (env or os.environ).get("AMQP_URI", amqp_uri())
        self.mode = mode if mode != "auto" else ("processes" if broker_answers(uri) else "embedded")
        full_env = {**os.environ, **(env or {})}
        if self.mode == "processes":
            for name in SERVICES:
                self.procs[name] = self._spawn(nameko_command(name), full_env, log_dir, name)
        else:
            cmd = [sys.executable, "-m", "civicpulse.embedded"]
            self.procs["embedded"] = self._spawn(cmd, full_env, log_dir, "embedded")
        return self.mode

    @staticmethod
    def _spawn(cmd: list[str], env: dict[str, str], log_dir: Path | None, name: str
               ) -> subprocess.Popen:
        out = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            out = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT if out else None,
                                start_new_session=True)

    def wait_ready(self, timeout: float = 90.0) -> None:
        if self.mode == "processes":
            wait_ready(SERVICES, timeout, self.procs)
        else:
            wait_ready(SERVICES, timeout, {n: self.procs["embedded"] for n in SERVICES})

    def stop(self, timeout: float = 20.0) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def any_exited(self) -> str | None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                return name
        return None


def describe(mode: str, uri: str) -> str:
    if mode == "processes":
        return (f"run: RabbitMQ answers at {uri}: each service runs as its own process; "
                "partners can subscribe to their queues on this broker.")
    return (f"run: RabbitMQ does not answer at {uri}: running the EMBEDDED single-process mode "
            "(kombu memory:// transport, SQLite files under var/). Partners cannot subscribe "
            "in this mode: there is no broker for them to connect to.")


def run(mode: str = "auto") -> int:
    suite = Suite()
    stopping = False

    def _stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    chosen = suite.start(mode)
    print(describe(chosen, amqp_uri()), flush=True)
    try:
        suite.wait_ready()
        for name in SERVICES:
            print(f"run: {name:<9} http://127.0.0.1:{for_service(name).http_port}/", flush=True)
        print("run: ready. Ctrl-C stops everything.", flush=True)
        while not stopping:
            if (dead := suite.any_exited()) is not None:
                print(f"run: {dead} exited; stopping the suite", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.5)
        return 0
    except (TimeoutError, RuntimeError) as exc:
        print(f"run: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        suite.stop()
        print("run: stopped.", flush=True)
