"""`make bench-sentiment` machinery on a small N: the queue is consumed end to end into a
temporary database, a threshold-crossing mention yields a published detection, all cleaned up."""

import pytest
import requests

from bench import sentiment as bench

pytestmark = pytest.mark.integration


def test_bench_sentiment_measures_ingestion_and_detection_delay(rabbitmq, postgres_admin):
    with bench.temp_vhost() as uri:
        vhost = uri.rsplit("/", 1)[1]
        bench.fill(uri, bench.bodies(600, "raw"))
        assert bench.raw_consume(uri, 600) > 0
        with bench.temp_database() as db_url:
            run = bench.end_to_end(uri, db_url, 1500, trials=2, processes=1)
    assert run["rate"] > 0 and len(run["delays_ms"]) == 2
    assert all(0 < d < 5000 for d in run["delays_ms"])
    section = bench.report(None, 1.0, [run], 1500)
    assert section.startswith(bench.SECTION) and "p50" in section
    vhosts = requests.get(f"{bench.MGMT}/api/vhosts", auth=("guest", "guest"), timeout=5).json()
    assert vhost not in {v["name"] for v in vhosts}
