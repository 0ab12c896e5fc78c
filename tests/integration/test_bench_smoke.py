"""`make bench-bus` in miniature: one run against the real broker and PostgreSQL reports the
four figures, exits 0 and leaves nothing behind."""

import re

import pika
import pytest
from sqlalchemy import create_engine, text

from bench import bus

pytestmark = pytest.mark.integration


def test_bench_bus_runs_and_reports_four_figures(rabbitmq, postgres_admin, capsys):
    results = bus.Results()
    rc = bus.main(["--events", "300", "--batch", "100", "--confirm-events", "50",
                   "--uri", rabbitmq, "--pg-url", postgres_admin], results)
    out = capsys.readouterr().out
    assert rc == 0, out

    assert set(results.figures) == {"relay", "pika", "pika_confirm", "nameko"}
    assert [results.figures[k].events for k in ("relay", "pika", "pika_confirm", "nameko")] == \
        [300, 300, 50, 50]
    assert all(f.rate > 0 for f in results.figures.values())
    for label in bus.LABELS.values():
        assert re.search(re.escape(label) + r"\s+\d+\s+[\d.]+\s+[\d,]+", out), out
    assert "relay / raw pika (no confirms)" in out and "relay / nameko" in out
    assert re.search(r"relay events/s .*target .*(ok|MISSED)", out)

    # cleaned up: the temporary database and the bench queue are gone
    admin = create_engine(postgres_admin)
    with admin.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                            {"n": results.database}).scalar_one()
    admin.dispose()
    assert results.database.startswith("cp_bench_") and left == 0
    conn = pika.BlockingConnection(pika.URLParameters(rabbitmq))
    try:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):  # 404 NOT_FOUND
            conn.channel().queue_declare(results.queue, passive=True)
    finally:
        conn.close()


def test_bench_bus_error_exits_non_zero(postgres_admin, capsys):
    rc = bus.main(["--events", "10", "--uri", "amqp://guest:guest@127.0.0.1:5999/",
                   "--pg-url", postgres_admin])
    assert rc == 1
    assert "bench-bus: error" in capsys.readouterr().err
