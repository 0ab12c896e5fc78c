"""Browser fixtures: Debian's Chromium through Playwright (tests/browser/chromium.py), and the
suite as real processes on the real RabbitMQ (a fresh vhost) and PostgreSQL (a fresh database
per service), the console included, once per test module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from civicpulse.launcher import Suite
from civicpulse.settings import SERVICES, STATELESS
from tests.browser.chromium import Chromium, require_chromium
from tests.e2e.conftest import MGMT, free_port

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    require_chromium()
    browser = Chromium()
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def console_env(rabbitmq: str, postgres_admin: str, tmp_path_factory: Any
                ) -> Iterator[dict[str, str]]:
    """The environment of a whole suite on a fresh vhost and fresh databases."""
    vhost = f"cp_console_{uuid.uuid4().hex[:8]}"
    auth = ("guest", "guest")
    requests.put(f"{MGMT}/vhosts/{vhost}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{MGMT}/permissions/{vhost}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    admin = create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    names = {svc: f"cp_console_{svc}_{uuid.uuid4().hex[:8]}"
             for svc in SERVICES if svc not in STATELESS}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    env = {"AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
           "CIVICPULSE_VAR_DIR": str(tmp_path_factory.mktemp("console") / "var")}
    for svc in SERVICES:
        env[f"{svc.upper()}_HTTP_PORT"] = str(free_port())
        if svc in names:
            env[f"{svc.upper()}_DATABASE_URL"] = postgres_admin.rsplit("/", 1)[0] + \
                f"/{names[svc]}"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        yield env
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
    requests.delete(f"{MGMT}/vhosts/{vhost}", auth=auth, timeout=10)


def start_suite(env: dict[str, str], logs: Path, services: tuple[str, ...] = SERVICES
                ) -> Suite:
    suite = Suite()
    suite.start("processes", env=env, log_dir=logs, services=services)
    try:
        suite.wait_ready(timeout=120)
    except Exception:
        for log in sorted(logs.glob("*.log")):
            print(f"==== {log.name}\n{log.read_text(errors='replace')[-4000:]}")
        suite.stop()
        raise
    return suite


def console_url(env: dict[str, str], path: str = "") -> str:
    return f"http://127.0.0.1:{env['CONSOLE_HTTP_PORT']}{path}"


def screenshot(page: Any, name: str) -> Path:
    """A 1280×800 screenshot under var/screenshots/ (the best are copied to docs/console/)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
