"""The sentiment service on the real RabbitMQ (fresh vhost) and PostgreSQL: POST /mentions
detects synchronously; the `sentiment.mentions` work queue is consumed in batches, acknowledged
after commit, with bad messages dead-lettered with their reason."""

import json

import kombu
import pytest
import requests
from sqlalchemy import create_engine, func, select

from civicpulse import deadletter
from services.sentiment import collectors, db
from services.sentiment.service import MENTIONS_QUEUE, SentimentService
from tests.conftest import make_uow
from tests.helpers import (
    free_port,  # noqa: F401 - one port picker for the run
    wait_until,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def sentiment(identity, container_factory, rabbit_config, pg_database, monkeypatch, rabbitmq):
    """Sentiment with the identity service beside it (staff tokens for reads), a collector and
    a staff member made with their own commands' code."""
    monkeypatch.setenv("SENTIMENT_DATABASE_URL", pg_database)
    port = free_port()
    container = container_factory(SentimentService, {
        **rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    sentiment_uow = make_uow("sentiment", pg_database)
    yield {"url": f"http://127.0.0.1:{port}", "amqp": rabbit_config["AMQP_URI"],
           "db": pg_database,
           "staff": bearer(identity.add("analyst", "editor")),
           "collector": bearer(collectors.add(sentiment_uow(), "crawler-1"))}
    container.stop()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def stored(url):
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(db.mentions)).scalar()
    engine.dispose()
    return n


def test_http_batch_detects_a_burst_and_reports_rejects(sentiment):
    burst = [{"source": "weibo", "channel": "weibo", "external_id": f"h{i}", "author": f"@c{i}",
              "reposts": i, "text": "#夜间施工# 投诉三次了还是推诿，不作为，愤怒，太失望了"}
             for i in range(12)]
    r = requests.post(f"{sentiment['url']}/mentions", timeout=20,
                      json=[*burst, {"source": "weibo", "text": "no id"}, 7])
    assert r.status_code == 401, "a collector token is required"
    r = requests.post(f"{sentiment['url']}/mentions", timeout=20, headers=sentiment["staff"],
                      json=burst)
    assert r.status_code == 403, "a staff token is not a collector token"
    r = requests.post(f"{sentiment['url']}/mentions", timeout=20,
                      headers=sentiment["collector"],
                      json=[*burst, {"source": "weibo", "text": "no id"}, 7])
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["accepted"] == 12 and body["duplicates"] == 0
    assert [x["index"] for x in body["rejected"]] == [12, 13]
    assert body["incidents"][0]["topic"] == "#夜间施工"
    assert requests.get(f"{sentiment['url']}/incidents", timeout=5).status_code == 401
    assert requests.get(f"{sentiment['url']}/incidents", headers=sentiment["collector"],
                        timeout=5).status_code == 403
    [listed] = requests.get(f"{sentiment['url']}/incidents", headers=sentiment["staff"],
                            timeout=20).json()["incidents"]
    assert listed["status"] == "detected" and listed["level"] == "IV"
    assert listed["evidence"]["top_mentions"][0]["reach"] == 11
    assert requests.post(f"{sentiment['url']}/mentions", json=burst, timeout=20,
                         headers=sentiment["collector"]).json()["duplicates"] == 12
    engine = create_engine(sentiment["db"].replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        senders = set(conn.execute(select(db.mentions.c.collector)).scalars())
    engine.dispose()
    assert senders == {"crawler-1"}, "each mention records the collector that sent it"
    metrics = requests.get(f"{sentiment['url']}/metrics", timeout=5).text
    assert 'civicpulse_sentiment_mentions_ingested_total{channel="weibo",source="weibo"} 12.0' \
        in metrics
    assert 'civicpulse_sentiment_open_incidents{level="IV"} 1.0' in metrics
    daily = requests.get(f"{sentiment['url']}/reports/daily?format=md", timeout=20,
                         headers=sentiment["staff"])
    assert daily.status_code == 200 and "#夜间施工" in daily.text
    assert requests.get(f"{sentiment['url']}/reports/daily?date=nope", timeout=5,
                        headers=sentiment["staff"]).status_code == 400


def test_work_queue_is_consumed_in_batches_and_bad_messages_are_dead_lettered(sentiment):
    n = 1500
    with kombu.Connection(sentiment["amqp"]) as conn:
        producer = kombu.Producer(conn.channel())
        queue = kombu.Queue(MENTIONS_QUEUE, durable=True)
        for i in range(n):
            mention = {"source": "monitor", "channel": "monitor", "external_id": f"q{i}",
                       "text": f"人大代表就预算草案提出建议 {i}"}
            producer.publish(mention, routing_key=MENTIONS_QUEUE, declare=[queue],
                             serializer="json", retry=True)
        producer.publish(b"{not json", routing_key=MENTIONS_QUEUE, serializer=None,
                         content_type="application/json", content_encoding="utf-8")
        producer.publish(json.dumps({"source": "monitor", "channel": "tiktok",
                                     "external_id": "bad", "text": "x"}),
                         routing_key=MENTIONS_QUEUE, content_type="application/json",
                         content_encoding="utf-8", serializer=None)
    assert wait_until(lambda: stored(sentiment["db"]) == n, timeout=60), stored(sentiment["db"])
    assert wait_until(lambda: len(deadletter.list_dead_letters(sentiment["amqp"],
                                                               "sentiment")) == 2)
    letters = deadletter.list_dead_letters(sentiment["amqp"], "sentiment")
    assert sorted(x.reason for x in letters) == ["invalid", "malformed"]
    assert any("channel" in x.error for x in letters if x.reason == "invalid")
    assert all(x.queue == MENTIONS_QUEUE for x in letters)

    def drained():
        with kombu.Connection(sentiment["amqp"]) as conn:
            q = kombu.Queue(MENTIONS_QUEUE, durable=True)(conn.channel())
            return q.queue_declare(passive=True).message_count == 0
    assert wait_until(drained)
