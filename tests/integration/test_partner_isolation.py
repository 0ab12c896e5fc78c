"""Partner access against the real RabbitMQ (a fresh vhost per test, management API): with its
own URI an agency reads its own queue and nothing else, publishes nowhere, declares and binds
nothing; rotate and remove take the old credentials away."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pika
import pika.exceptions
import pytest
from sqlalchemy import insert, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import utcnow
from civicpulse.outbox import PARTNER_EXCHANGE
from services.liaison import db
from services.liaison import partner_accounts as pa

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(rabbit_config: dict[str, Any], rabbitmq: str,
           uow_factory: Callable[[str], Callable[[], UnitOfWork]]
           ) -> Iterator[tuple[str, UnitOfWork, pa.Management]]:
    uri = rabbit_config["AMQP_URI"].replace("pyamqp://", "amqp://", 1)
    mgmt = pa.Management()
    with uow_factory("liaison")() as uow:
        yield uri, uow, mgmt
    for agency in ("cac", "media"):
        mgmt.delete_user(pa.amqp_user(agency))


def connect(uri: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(uri))


def publish_as_office(uri: str, routing_key: str, body: bytes) -> None:
    with connect(uri) as conn:
        ch = conn.channel()
        ch.exchange_declare("liaison.events", "topic", durable=True)
        ch.basic_publish(PARTNER_EXCHANGE, routing_key, body)


def denied(action: Callable[[pika.adapters.blocking_connection.BlockingChannel], Any],
           uri: str) -> int:
    """Run `action` on a fresh channel of the partner; return the broker's reply code."""
    with connect(uri) as conn:
        ch = conn.channel()
        ch.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as err:
            action(ch)
            conn.process_data_events(0.5)
            ch.basic_qos(prefetch_count=1)  # a round trip: a pending close surfaces here
        return err.value.reply_code


def test_partner_reads_only_its_own_queue(broker: tuple[str, UnitOfWork, pa.Management]
                                          ) -> None:
    uri, uow, mgmt = broker
    cac = pa.add(uow.session, mgmt, uri, "cac", utcnow())
    media = pa.add(uow.session, mgmt, uri, "media", utcnow())
    uow.commit()
    assert pa.vhost_of(cac.amqp_uri) == pa.vhost_of(uri) and "partner-cac" in cac.amqp_uri
    publish_as_office(uri, "cac", b'{"for": "cac"}')
    publish_as_office(uri, "media", b'{"for": "media"}')

    with connect(cac.amqp_uri) as conn:  # basic.consume on its own queue, manual ack
        ch = conn.channel()
        ch.basic_qos(prefetch_count=10)
        got = next(ch.consume("partner.cac", inactivity_timeout=5))
        assert got[2] == b'{"for": "cac"}'
        ch.basic_ack(got[0].delivery_tag)
        ch.cancel()

    assert denied(lambda ch: ch.basic_get("partner.media"), cac.amqp_uri) == 403
    assert denied(lambda ch: ch.basic_consume("partner.media", lambda *a: None),
                  cac.amqp_uri) == 403
    assert denied(lambda ch: ch.basic_publish("liaison.events", "liaison.ticket.opened", b"x"),
                  cac.amqp_uri) == 403
    assert denied(lambda ch: ch.basic_publish(PARTNER_EXCHANGE, "media", b"x"),
                  cac.amqp_uri) == 403
    assert denied(lambda ch: ch.basic_publish("", "partner.media", b"x"), cac.amqp_uri) == 403
    assert denied(lambda ch: ch.queue_declare("partner.cac.mine", durable=True),
                  cac.amqp_uri) == 403
    assert denied(lambda ch: ch.exchange_declare("cac.x", "fanout"), cac.amqp_uri) == 403
    assert denied(lambda ch: ch.queue_bind("partner.cac", PARTNER_EXCHANGE, routing_key="media"),
                  cac.amqp_uri) == 403
    # (queue.purge of its own queue needs only read, so RabbitMQ allows it: it is the
    # partner's own copy; see docs/partners.md)
    assert denied(lambda ch: ch.queue_delete("partner.cac"), cac.amqp_uri) == 403

    with connect(media.amqp_uri) as conn:  # media's message is still there for media
        method, _, body = conn.channel().basic_get("partner.media", auto_ack=True)
        assert method is not None and body == b'{"for": "media"}'
    assert pa.agency_for_token(uow.session, media.token) == "media"
    assert pa.agency_for_token(uow.session, "not-a-token") is None


def test_rotate_and_remove_take_access_away(broker: tuple[str, UnitOfWork, pa.Management]
                                            ) -> None:
    uri, uow, mgmt = broker
    old = pa.add(uow.session, mgmt, uri, "cac", utcnow())
    uow.commit()
    new = pa.rotate(uow.session, mgmt, uri, "cac", utcnow())
    uow.commit()
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(old.amqp_uri)
    connect(new.amqp_uri).close()
    assert pa.agency_for_token(uow.session, old.token) is None
    assert pa.agency_for_token(uow.session, new.token) == "cac"

    pa.remove(uow.session, mgmt, uri, "cac")
    uow.commit()
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(new.amqp_uri)
    assert pa.agency_for_token(uow.session, new.token) is None
    with pytest.raises(LookupError):
        pa.rotate(uow.session, mgmt, uri, "cac", utcnow())


def test_re_adding_an_agency_closes_its_old_connections(
        broker: tuple[str, UnitOfWork, pa.Management]) -> None:
    uri, uow, mgmt = broker
    old = pa.add(uow.session, mgmt, uri, "cac", utcnow())
    uow.commit()
    conn = connect(old.amqp_uri)
    conn.channel().basic_qos(prefetch_count=1)
    new = pa.add(uow.session, mgmt, uri, "cac", utcnow())  # access given again
    uow.commit()
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker):
        for _ in range(50):  # the broker closes it; a few round trips surface the close
            conn.process_data_events(0.1)
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(old.amqp_uri)
    connect(new.amqp_uri).close()
    assert pa.agency_for_token(uow.session, old.token) is None


def test_an_inactive_agency_keeps_no_working_token(
        broker: tuple[str, UnitOfWork, pa.Management]) -> None:
    uri, uow, mgmt = broker
    creds = pa.add(uow.session, mgmt, uri, "media", utcnow())
    uow.session.execute(insert(db.agencies).values(
        code="media", name="市融媒体中心", kind="media", contacts=[], active=True,
        updated_at=utcnow()))
    uow.commit()
    assert pa.agency_for_token(uow.session, creds.token) == "media"
    uow.session.execute(update(db.agencies).where(db.agencies.c.code == "media")
                        .values(active=False))
    uow.commit()
    assert pa.agency_for_token(uow.session, creds.token) is None
