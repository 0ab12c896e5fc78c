"""`make test-faults`: the replay under faults, on one RabbitMQ node and on a three-node cluster.

Each test runs `tests/faults/run.py` as its own process (a plain Python process with real
threads: the injector's `rabbitmqctl` calls must not stall the replay) and fails unless it
ends with `faults: lost=0 duplicated=0 ...`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.faults.harness import SERVICES

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

LINE = re.compile(r"^faults: lost=(\d+) duplicated=(\d+) incidents=(\d+) tickets=(\d+) "
                  r"kills=(\d+) broker_restarts=(\d+) db_kills=(\d+)$")
# A new fault schedule every run (printed first: `FAULTS_SEED=n make test-faults` replays it).
SEED = int(os.environ.get("FAULTS_SEED") or time.time_ns() % 1_000_000)


def require_own_nodes() -> None:
    if shutil.which("rabbitmq-server") and os.geteuid() == 0:
        return
    why = "the fault suite starts its own RabbitMQ nodes: needs rabbitmq-server and root"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def run_faults(pg_database_factory: Callable[[str], str], postgres_admin: str,
               *args: str) -> list[str]:
    require_own_nodes()
    env = {**os.environ, "FAULTS_PG_ADMIN_URL": postgres_admin}
    for svc in SERVICES:
        env[f"FAULTS_{svc.upper()}_DATABASE_URL"] = pg_database_factory(f"cp_fault_{svc}")
    work = Path(tempfile.mkdtemp(prefix="cpfault-"))
    proc = subprocess.Popen([sys.executable, "-m", "tests.faults.run", "--work", str(work),
                             "--seed", str(SEED), *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    proc.wait()
    if proc.returncode != 0:
        for log in sorted((work / "logs").glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-3000:]}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return lines


def check(lines: list[str]) -> None:
    found = [m for line in lines if (m := LINE.match(line))]
    assert found, f"no faults line: {lines[-5:]}"
    match = found[-1]
    lost, dup, incidents, tickets, kills, restarts, db_kills = map(int, match.groups())
    assert (lost, dup) == (0, 0), match.string
    assert tickets == incidents >= 50
    assert kills == 2 * len(SERVICES) and restarts >= 1 and db_kills >= 1  # each replica once
    assert not any("could not be injected" in line for line in lines)
    figures = next(line for line in lines if line.startswith("faults: figures "))
    fired = int(re.search(r"deadlines fired=(\d+)", figures).group(1))
    assert fired > 0, f"no deadline fired during the replay: {figures}"
    classic = [line for line in lines if line.startswith("faults: classic")]
    assert all(line.endswith(": none") for line in classic), classic


def test_one_node_under_faults(pg_database_factory, postgres_admin):
    check(run_faults(pg_database_factory, postgres_admin, "--nodes", "1"))


def test_three_node_cluster_loses_a_node(pg_database_factory, postgres_admin):
    lines = run_faults(pg_database_factory, postgres_admin, "--nodes", "3")
    check(lines)
    assert "faults: classic (single-node) queues on the cluster: none" in lines
