"""Shared body of every service's Alembic `env.py` (online migrations only)."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import MetaData, text

from civicpulse.db import make_engine
from civicpulse.tables import platform_metadata

MIGRATION_LOCK = 0x43500001  # PostgreSQL advisory lock key held while migrating


def run(target_metadata: MetaData) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    metadatas: list[Any] = [target_metadata, platform_metadata]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadatas,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # replicas of a service start together: one migrates, the others wait and
                # then find the database at head
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})
            context.run_migrations()
    engine.dispose()
