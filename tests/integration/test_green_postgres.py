"""A slow PostgreSQL query on one green thread does not stop the others: engines made by
`civicpulse.db.make_engine` wait through psycopg's select-based wait function under eventlet
(with its default C wait function a 1 s query stopped a 50 ms ticker for the whole second)."""

from __future__ import annotations

import eventlet
import pytest
from sqlalchemy import text

from civicpulse.db import make_engine

pytestmark = pytest.mark.integration


def test_a_slow_query_lets_other_green_threads_run(pg_database: str) -> None:
    engine = make_engine(pg_database)
    ticks: list[int] = []

    def ticker() -> None:
        while True:
            ticks.append(1)
            eventlet.sleep(0.05)

    thread = eventlet.spawn(ticker)
    try:
        eventlet.sleep(0)
        with engine.connect() as conn:
            before = len(ticks)
            conn.execute(text("SELECT pg_sleep(1)"))
            during = len(ticks) - before
    finally:
        thread.kill()
        engine.dispose()
    assert during >= 8, f"only {during} ticks of 50 ms while a 1 s query ran"
