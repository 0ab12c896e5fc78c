"""Each service's Alembic history on PostgreSQL: up to head, in sync with its tables, down to
base and up again."""

import importlib

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from civicpulse.db import make_engine
from civicpulse.settings import SERVICES, STATELESS
from civicpulse.tables import platform_metadata
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


@pytest.mark.parametrize("service", [s for s in SERVICES if s not in STATELESS])
def test_history_round_trips_and_matches_the_tables(service, pg_database):
    cfg = _config(service, pg_database)
    command.upgrade(cfg, "head")
    engine = make_engine(pg_database)
    metadata = importlib.import_module(f"services.{service}.db").metadata
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), [metadata, platform_metadata])
    assert diff == [], f"{service}: tables and migrations disagree: {diff}"
    assert {"outbox", "inbox"} <= set(inspect(engine).get_table_names())

    command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    engine.dispose()
