"""Broker users per service, proven on the real broker: deploy/rabbitmq/definitions.json's
topology, users' permissions and topic permissions are imported into a fresh vhost; every
service runs as its own process with its own user through the headline flow; a collector
publishes mentions; and a service's user cannot publish to another service's exchange, nor to
any queue through the default exchange."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import pytest
import requests
from pika.exceptions import ChannelClosedByBroker

from civicpulse import broker_users
from civicpulse.demo import run_flow
from civicpulse.settings import SERVICES

pytestmark = pytest.mark.e2e

MGMT = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")
DEFINITIONS = Path(__file__).parents[2] / "deploy" / "rabbitmq" / "definitions.json"


def topology(definitions: dict[str, Any]) -> dict[str, Any]:
    """The file's queues, exchanges, bindings and policies, for a per-vhost import."""
    strip = ("vhost",)
    return {key: [{k: v for k, v in o.items() if k not in strip} for o in definitions[key]]
            for key in ("queues", "exchanges", "bindings", "policies")}


def entry(definitions: dict[str, Any], key: str, user: str) -> dict[str, str]:
    [found] = [p for p in definitions[key] if p["user"] == user]
    return {k: v for k, v in found.items() if k not in ("user", "vhost")}


@pytest.fixture
def locked_vhost(rabbitmq: str) -> Iterator[dict[str, Any]]:
    """A fresh vhost with the file's topology and one user per service and a collector, each
    with the file's permissions (user names get a unique prefix: users are broker-wide)."""
    definitions = json.loads(DEFINITIONS.read_text())
    vhost = f"cp_users_{uuid.uuid4().hex[:8]}"
    prefix = f"t{uuid.uuid4().hex[:6]}-"
    requests.put(f"{MGMT}/vhosts/{vhost}", auth=AUTH, timeout=10).raise_for_status()
    requests.put(f"{MGMT}/permissions/{vhost}/guest", auth=AUTH, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    requests.post(f"{MGMT}/definitions/{vhost}", auth=AUTH, timeout=30,
                  json=topology(definitions)).raise_for_status()
    uris = {}
    for user in [*SERVICES, broker_users.COLLECTOR_USER]:
        name, password = prefix + user, secrets.token_urlsafe(16)
        requests.put(f"{MGMT}/users/{name}", auth=AUTH, timeout=10,
                     json={"password": password, "tags": ""}).raise_for_status()
        requests.put(f"{MGMT}/permissions/{vhost}/{name}", auth=AUTH, timeout=10,
                     json=entry(definitions, "permissions", user)).raise_for_status()
        if user in SERVICES:
            requests.put(f"{MGMT}/topic-permissions/{vhost}/{name}", auth=AUTH, timeout=10,
                         json=entry(definitions, "topic_permissions", user)
                         ).raise_for_status()
        uris[user] = f"amqp://{name}:{password}@127.0.0.1:5672/{vhost}"
    try:
        yield {"vhost": vhost, "uris": uris,
               "operator": f"amqp://guest:guest@127.0.0.1:5672/{vhost}"}
    finally:
        requests.delete(f"{MGMT}/vhosts/{vhost}", auth=AUTH, timeout=10)
        for user in [*SERVICES, broker_users.COLLECTOR_USER]:
            requests.delete(f"{MGMT}/users/{prefix}{user}", auth=AUTH, timeout=10)


@pytest.fixture
def vhost_uri(locked_vhost: dict[str, Any]) -> str:
    """The suite's operator URI (the demo reads the partner queue with it); each service gets
    its own user through `<SERVICE>_AMQP_URI`."""
    return locked_vhost["operator"]


def publish(uri: str, exchange: str, routing_key: str, body: bytes = b"{}") -> None:
    """Publish with confirms; raises ChannelClosedByBroker when the broker refuses."""
    conn = pika.BlockingConnection(pika.URLParameters(uri))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(exchange, routing_key, body,
                              pika.BasicProperties(content_type="application/json"))
    finally:
        if conn.is_open:
            conn.close()


def test_each_service_runs_the_headline_flow_with_its_own_broker_user(
        locked_vhost: dict[str, Any], suite_env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    uris = locked_vhost["uris"]
    for svc in SERVICES:
        suite_env[f"{svc.upper()}_AMQP_URI"] = uris[svc]
    request.getfixturevalue("running_suite")

    flow = run_flow(timeout=120)
    connected = {c["user"] for c in requests.get(
        f"{MGMT}/vhosts/{locked_vhost['vhost']}/connections", auth=AUTH, timeout=10).json()}
    assert {u.split("-", 1)[1] for u in connected if u != "guest"} == set(SERVICES)
    assert flow.partner_event is not None and flow.partner_event["type"] == \
        "liaison.ticket.opened"
    assert {e["kind"] for e in flow.ticket["timeline"]} >= {"statement.published"}

    mention = json.dumps([{"source": "weibo", "external_id": f"c-{uuid.uuid4().hex}",
                           "text": "今天天气不错", "author": "@someone"}]).encode()
    publish(uris["collector"], broker_users.MENTIONS_EXCHANGE, "sentiment.mentions", mention)

    for refused in [(uris["news"], "sentiment.events", "sentiment.incident.detected"),
                    (uris["news"], "", "sentiment.mentions"),
                    (uris["liaison"], "review.events", "review.case.approved"),
                    (uris["review"], "civicpulse.partners", "cac"),
                    (uris["collector"], "news.events", "news.item.published"),
                    (uris["collector"], "", "sentiment.mentions"),
                    (uris["news"], "nameko-rpc", "liaison.anything")]:
        with pytest.raises(ChannelClosedByBroker) as closed:
            publish(*refused)
        assert closed.value.reply_code == 403, refused[1:]
