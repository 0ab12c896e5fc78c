"""Liaison on the real RabbitMQ (a fresh vhost per test) and PostgreSQL: the partner topology is
declared on start, an incident opens exactly one ticket, the opening reaches the partner queues
the TLP allows, and the statement request goes out on liaison's own exchange."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import kombu
import pytest
from sqlalchemy import create_engine, text

from civicpulse.envelope import Envelope, new_event
from services.liaison import config
from services.liaison.service import LiaisonService
from tests.helpers import publish_event as publish
from tests.helpers import wait_for

pytestmark = pytest.mark.integration
INC = "inc-liaison-it"


@pytest.fixture
def liaison(container_factory: Any, rabbit_config: dict[str, Any], pg_database: str,
            monkeypatch: pytest.MonkeyPatch, rabbitmq: str) -> Iterator[tuple[str, str]]:
    monkeypatch.setenv("LIAISON_DATABASE_URL", pg_database)
    uri = rabbit_config["AMQP_URI"]
    with kombu.Connection(uri) as conn:  # watch liaison's own exchange from the start
        watch = kombu.Queue("watch.liaison", kombu.Exchange("liaison.events", type="topic",
                                                            durable=True),
                            routing_key="liaison.#")
        watch(conn.channel()).declare()
    container = container_factory(LiaisonService, rabbit_config)
    container.start()
    yield uri, pg_database
    container.stop()


def detected(incident: str = INC) -> Envelope:
    return new_event("sentiment.incident.detected", {
        "incident_id": incident, "topic": "deputies", "level": "IV",
        "detected_at": "2025-03-01T09:00:00+00:00", "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=incident, tlp="AMBER")


def drain(uri: str, queue: str) -> list[dict[str, Any]]:
    out = []
    with kombu.Connection(uri) as conn:
        q = kombu.Queue(queue)(conn.channel())
        while (m := q.get(no_ack=True)) is not None:
            out.append(json.loads(m.body))
    return out


def test_incident_opens_one_ticket_shared_by_tlp(liaison: tuple[str, str]) -> None:
    uri, db_url = liaison
    with kombu.Connection(uri) as conn:  # the topology exists before anything is shared
        for code in config.load().directory:
            kombu.Queue(f"partner.{code}")(conn.channel()).queue_declare(passive=True)

    event = detected()
    publish(uri, event)
    publish(uri, event)  # redelivered duplicate
    publish(uri, detected())  # another detection of the same incident

    cac = wait_for(lambda: drain(uri, "partner.cac"))
    assert [e["type"] for e in cac] == ["liaison.ticket.opened"]
    assert cac[0]["tlp"] == "AMBER" and cac[0]["correlation_id"] == INC
    own = wait_for(lambda: drain(uri, "watch.liaison"))
    assert sorted(e["type"] for e in own) == ["liaison.statement.requested",
                                             "liaison.ticket.opened"]
    time.sleep(1.0)  # give the duplicates time to (not) do anything
    for code in ("propaganda", "media", "govpress"):  # AMBER: only the ticket's agencies
        assert drain(uri, f"partner.{code}") == []
    assert drain(uri, "partner.cac") == []
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 1
        assert conn.execute(text("SELECT agency FROM shares")).scalars().all() == ["cac"]
        # the start seeded the agency directory from the YAML (JSON contacts on PostgreSQL)
        rows = conn.execute(text("SELECT code, kind, contacts, active FROM agencies "
                                 "ORDER BY code")).all()
    engine.dispose()
    assert [r.code for r in rows] == sorted(config.load().directory)
    assert all(r.active and r.contacts[0]["desk"] for r in rows)
    assert {r.code: r.kind for r in rows}["cac"] == "cyberspace"
