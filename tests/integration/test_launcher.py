"""The launcher's supervision on real (tiny) processes: a death is reported with its exit code
or signal and the last lines of its log, and the process is started again after a backoff that
doubles while it keeps dying quickly."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from civicpulse import launcher
from civicpulse.launcher import Replica, parse_replicas
from civicpulse.settings import SERVICES

pytestmark = pytest.mark.integration


def dying(tmp_path: Path, code: str) -> Replica:
    cmd = [sys.executable, "-c", code]
    return Replica("liaison-2", "liaison", cmd, {}, 0, tmp_path / "liaison-2.log")


def exited(replica: Replica) -> None:
    assert replica.proc is not None
    replica.proc.wait(timeout=20)


def test_a_dead_process_is_reported_and_restarted_with_backoff(tmp_path: Path) -> None:
    replica = dying(tmp_path, "print('opening the database'); print('boom: no such table');"
                              "import sys; sys.exit(3)")
    replica.spawn()
    first_pid = replica.pid
    exited(replica)
    now = time.monotonic()
    death = replica.check(now)
    assert death is not None and death.returncode == 3 and death.pid == first_pid
    assert death.last_lines[-1] == "boom: no such table"
    assert death.restart_in == launcher.FIRST_BACKOFF
    text = death.describe()
    assert "liaison-2" in text and "exit code 3" in text and "boom: no such table" in text
    assert replica.check(now + 0.5) is None and replica.restarts == 0  # still backing off
    assert replica.check(now + launcher.FIRST_BACKOFF) is None and replica.restarts == 1
    assert replica.pid != first_pid
    exited(replica)
    second = replica.check(time.monotonic())
    assert second is not None and second.restart_in == 2 * launcher.FIRST_BACKOFF


def test_a_process_that_ran_long_restarts_at_once_and_a_kill_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher, "STABLE_SECONDS", 0.2)
    replica = dying(tmp_path, "import os, signal, time; time.sleep(0.5); "
                              "os.kill(os.getpid(), signal.SIGKILL)")
    replica.spawn()
    exited(replica)
    death = replica.check(time.monotonic())
    assert death is not None and death.restart_in == 0
    assert "killed by SIGKILL" in death.describe()
    assert replica.check(time.monotonic()) is None and replica.restarts == 1
    replica.proc.kill()  # type: ignore[union-attr]


def test_replica_counts() -> None:
    assert parse_replicas("2") == dict.fromkeys(SERVICES, 2)
    assert parse_replicas("liaison=2, news=3") == {"liaison": 2, "news": 3}
    assert parse_replicas("") == {}
    with pytest.raises(ValueError):
        parse_replicas("nosuch=2")
