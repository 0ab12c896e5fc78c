"""End-to-end fixtures: all four services as real processes on the real RabbitMQ (a fresh
vhost) and PostgreSQL (a fresh database per service), on free ports."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from civicpulse.launcher import Suite
from civicpulse.settings import SERVICES
from tests.helpers import free_port  # noqa: F401 - one port picker for the run

MGMT = "http://127.0.0.1:15672/api"


@pytest.fixture
def vhost_uri(rabbitmq: str) -> Iterator[str]:
    name = f"cp_e2e_{uuid.uuid4().hex[:8]}"
    auth = ("guest", "guest")
    requests.put(f"{MGMT}/vhosts/{name}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{MGMT}/permissions/{name}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    requests.delete(f"{MGMT}/vhosts/{name}", auth=auth, timeout=10)


@pytest.fixture
def service_databases(pg_database_factory) -> dict[str, str]:
    return {svc: pg_database_factory(f"cp_e2e_{svc}") for svc in SERVICES}


@pytest.fixture
def suite_env(vhost_uri, service_databases, tmp_path: Path, monkeypatch) -> dict[str, str]:
    env = {"AMQP_URI": vhost_uri, "CIVICPULSE_VAR_DIR": str(tmp_path / "var")}
    for svc in SERVICES:
        env[f"{svc.upper()}_DATABASE_URL"] = service_databases[svc]
        env[f"{svc.upper()}_HTTP_PORT"] = str(free_port())
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def print_logs(log_dir: Path) -> None:
    """The end of each process's log (pytest shows it with a failure)."""
    for log in sorted(log_dir.glob("*.log")):
        print(f"==== {log.name}\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture
def running_suite(suite_env, tmp_path: Path) -> Iterator[Suite]:
    suite = Suite()
    suite.start("processes", env=suite_env, log_dir=tmp_path / "logs")
    try:
        suite.wait_ready(timeout=120)
        yield suite
    except Exception:
        print_logs(tmp_path / "logs")
        raise
    finally:
        suite.stop()
