"""`make run` (`civicpulse run`) on the real broker: a short banner once every service answers
(mode, each address, how to create the first account), then only log lines worth reading; no
dependency deprecation noise, neither on the terminal nor in the processes' log files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civicpulse.settings import SERVICES

pytestmark = pytest.mark.e2e
NOISE = ("DeprecationWarning", "Eventlet is deprecated", "pkg_resources",
         "setup plugin alembic", "No hostname was supplied")


def read_until_ready(proc: subprocess.Popen[str], timeout: float = 150) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("run: ready.") or time.monotonic() > deadline:
            break
    return "".join(lines)


def test_make_run_prints_a_banner_and_no_dependency_noise(suite_env: dict[str, str],
                                                          tmp_path: Path) -> None:
    env = {**os.environ, **suite_env, "CIVICPULSE_LOG_FORMAT": "human"}
    proc = subprocess.Popen([sys.executable, "-m", "civicpulse.cli", "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        head = read_until_ready(proc)
        time.sleep(2)  # the first log lines are shown after the banner
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=90)[0]
    assert proc.returncode == 0, (head + rest)[-3000:]
    banner = head[head.index("CivicPulse is running"):]
    assert "mode      processes: one process per service on RabbitMQ" in banner
    for svc in SERVICES:
        assert f"http://127.0.0.1:{suite_env[f'{svc.upper()}_HTTP_PORT']}/" in banner, svc
    assert "civicpulse users add NAME --role admin" in banner
    assert "civicpulse users set-password NAME" in banner
    assert "guest:guest" not in head + rest, "the broker password is never printed"
    shown = head + rest
    for noise in NOISE:
        assert noise not in shown, noise
    logs = Path(suite_env["CIVICPULSE_VAR_DIR"]) / "logs"
    for log in sorted(logs.glob("*.log")):
        text = log.read_text(errors="replace")
        for noise in NOISE:
            assert noise not in text, f"{log.name}: {noise}"
    assert "run: stopped." in rest
