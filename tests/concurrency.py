"""Run the same work in several OS processes at once, for tests of once-only effects under
real concurrency (a GreenPool in one process would run them one after the other: psycopg
does not yield, and SQLAlchemy sessions share nothing anyway).

Each process runs `script`, which defines `work()` returning something JSON can encode; the
processes import what they need, wait together at a barrier, then run `work()` at the same
moment and print its result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_RUNNER = """
import json as _json, os as _os, sys as _sys, time as _time
print("ready", flush=True)
while not _os.path.exists(_sys.argv[1]):
    _time.sleep(0.002)
print(_json.dumps(work()), flush=True)
"""


def run_at_once(script: str, n: int = 4, timeout: float = 120.0) -> list[Any]:
    """Start `n` processes of `script`, release them together, return each `work()` result."""
    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs = [subprocess.Popen([sys.executable, "-c", script + _RUNNER, str(go)], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(n)]
        try:
            for proc in procs:
                assert proc.stdout is not None
                line = proc.stdout.readline()
                assert line.strip() == "ready", (line, proc.stderr.read() if proc.stderr else "")
            go.touch()
            results = []
            for proc in procs:
                out, err = proc.communicate(timeout=timeout)
                assert proc.returncode == 0, err[-3000:]
                results.append(json.loads(out.strip().splitlines()[-1]))
            return results
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
