"""Test set-up shared by every suite.

nameko's pytest plugin no longer monkey-patches, so eventlet is patched here first.
Integration and e2e tests need the real RabbitMQ and PostgreSQL: under CI=true a missing
server fails the run; elsewhere those tests are skipped with the reason.
"""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import socket  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

AMQP_URI = os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[1]


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(host: str, port: int, what: str) -> None:
    if _port_open(host, port):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not answering on {host}:{port} (required under CI=true)")
    pytest.skip(f"{what} is not answering on {host}:{port}")


@pytest.fixture(autouse=True)
def _fresh_staff_cache() -> Iterator[None]:
    """Each test starts with an empty staff-token cache (tests use different fake accounts)."""
    from civicpulse import staff

    staff.cache().clear()
    yield


@pytest.fixture(scope="session")
def rabbitmq() -> str:
    require("127.0.0.1", 5672, "RabbitMQ")
    return AMQP_URI


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    require("127.0.0.1", 5432, "PostgreSQL")
    return PG_ADMIN_URL


@pytest.fixture
def pg_database_factory(postgres_admin: str) -> Iterator[Callable[[str], str]]:
    """`create(prefix)` makes a fresh, empty PostgreSQL database and returns its URL; every
    database made this way is dropped when the test ends."""
    admin = create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def create(prefix: str = "cp_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return postgres_admin.rsplit("/", 1)[0] + f"/{name}"

    yield create
    with admin.connect() as conn:
        for name in made:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def pg_database(pg_database_factory: Callable[[str], str]) -> str:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    return pg_database_factory("cp_test")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


def make_uow(service: str, url: str):  # noqa: ANN201 - returns a UnitOfWork factory
    """Migrate a service's database at `url` and return a factory of units of work."""
    from civicpulse.db import UnitOfWork, make_engine, migrate, session_factory

    migrate(url, ROOT / "services" / service / "migrations")
    engine = make_engine(url)
    sessions = session_factory(engine)
    return lambda: UnitOfWork(sessions, service)


@pytest.fixture
def uow_factory(sqlite_url: str):  # noqa: ANN201
    """`uow_factory("liaison")()` gives a unit of work on a migrated SQLite database."""
    return lambda service: make_uow(service, sqlite_url)


class Identity:
    """The identity service running in a test (its own PostgreSQL database, the test's vhost):
    staff accounts made through its use cases, as `civicpulse users` makes them."""

    def __init__(self, url: str, database_url: str) -> None:
        self.url = url
        self.database_url = database_url
        self.uow = make_uow("identity", database_url)

    def add(self, name: str, role: str, **contact: str | None) -> str:
        """A new account; its API bearer token."""
        from services.identity import accounts

        return accounts.add(self.uow(), name, role, **contact)

    def disable(self, name: str) -> None:
        from services.identity import accounts

        accounts.disable(self.uow(), name)

    def set_password(self, name: str, password: str) -> None:
        from services.identity import accounts, config

        accounts.set_password(self.uow(), name, password, config.load())


@pytest.fixture
def identity(container_factory, rabbit_config, pg_database_factory,  # noqa: ANN001
             monkeypatch: pytest.MonkeyPatch, rabbitmq: str) -> Identity:
    """The identity service as a nameko container on the test's vhost, so the services under
    test can ask it who a staff token belongs to. Start it before them (the `identity`
    argument first)."""
    from services.identity.service import IdentityService
    from tests.helpers import free_port

    database_url = pg_database_factory("cp_identity")
    monkeypatch.setenv("IDENTITY_DATABASE_URL", database_url)
    port = free_port()
    container = container_factory(IdentityService, {
        **rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    return Identity(f"http://127.0.0.1:{port}", database_url)
