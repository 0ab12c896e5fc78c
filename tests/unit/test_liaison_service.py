"""Liaison entrypoints with nameko's worker_factory, and the partner topology on memory://."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import kombu
import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event
from civicpulse.outbox import PARTNER_EXCHANGE
from services.liaison import config, partners
from services.liaison.service import LiaisonService

INC = "inc-svc-1"


class FakePlatform:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self.uow = uow


@pytest.fixture
def service(uow_factory: Callable[[str], Callable[[], UnitOfWork]]) -> Any:
    return worker_factory(LiaisonService, platform=FakePlatform(uow_factory("liaison")),
                          partners=config.load())


def request(method: str = "GET", path: str = "/", **kwargs: Any) -> Request:
    return Request(EnvironBuilder(method=method, path=path, **kwargs).get_environ())


def body(response: tuple[int, dict[str, str], str]) -> tuple[int, Any]:
    return response[0], json.loads(response[2])


def open_one(service: Any) -> str:
    service.on_incident_detected(new_event("sentiment.incident.detected", {
        "incident_id": INC, "topic": "budget", "level": "IV",
        "detected_at": "2025-03-01T09:00:00+00:00", "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=INC, tlp="AMBER"))
    status, data = body(service.get_tickets(request(query_string={"incident_id": INC})))
    assert status == 200 and len(data["tickets"]) == 1
    return data["tickets"][0]["id"]


def test_ticket_over_http_and_rpc(service: Any) -> None:
    tid = open_one(service)
    status, ticket = body(service.get_ticket_http(request(), ticket_id=tid))
    assert status == 200
    assert ticket["status"] == "responding" and ticket["agencies"] == ["cac"]
    assert {"timeline", "tasks", "participants", "shares", "deadlines"} <= set(ticket)
    assert service.get_ticket(tid) == ticket
    assert service.get_ticket("tkt-missing") is None
    assert body(service.get_ticket_http(request(), ticket_id="tkt-missing"))[0] == 404


def test_list_filters_are_validated(service: Any) -> None:
    open_one(service)
    assert body(service.get_tickets(request(query_string={"status": "responding"})))[1][
        "tickets"][0]["incident_id"] == INC
    status, data = body(service.get_tickets(request(query_string={"status": "bogus"})))
    assert status == 400 and "status" in data["fields"]


def test_transition_over_http(service: Any) -> None:
    tid = open_one(service)
    post = lambda payload: body(service.transition(  # noqa: E731
        request("POST", json=payload), ticket_id=tid))
    assert post({"to": "monitoring", "by": "李四"})[0] == 200
    status, data = post({"to": "closed"})
    assert status == 409 and data["status"] == "monitoring" and data["to"] == "closed"
    assert post({"to": "sideways"})[0] == 400
    assert post({})[0] == 400
    assert body(service.transition(request("POST", data="{not json"), ticket_id=tid))[0] == 400
    assert body(service.transition(request("POST", json={"to": "resolved"}),
                                   ticket_id="tkt-missing"))[0] == 404
    status, data = post({"to": "resolved", "note": "舆情平稳"})
    assert status == 200 and data["status"] == "resolved"


def test_health(service: Any) -> None:
    assert body(service.healthz(request()))[1] == {"status": "ok", "service": "liaison"}
    assert service.metrics(request())[0] == 200


def test_partner_topology_on_memory_transport() -> None:
    code = f"t{uuid.uuid4().hex[:8]}"
    names = partners.declare_partner_topology("memory://", [code])
    assert names == [f"partner.{code}"]
    with kombu.Connection("memory://") as conn:
        exchange = kombu.Exchange(PARTNER_EXCHANGE, type="direct", durable=True)
        kombu.Producer(conn.channel()).publish({"hello": code}, exchange=exchange,
                                               routing_key=code, serializer="json")
        queue = kombu.Queue(f"partner.{code}", exchange=exchange, routing_key=code)
        message = queue(conn.channel()).get(no_ack=True)
    assert message is not None and message.payload == {"hello": code}
