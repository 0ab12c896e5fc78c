"""Broker users per service and no secret in logs, proven on one run of the suite.

deploy/rabbitmq/definitions.json's topology, users' permissions and topic permissions are
imported into a fresh vhost; every service runs as its own process with its own user through the
headline flow (with a webhook channel whose URL carries a key, failing once); a collector publishes
mentions; a service's user cannot publish to another service's exchange, nor to any queue
through the default exchange. Then the services' logs, their metrics, the ticket's timeline and
the published item contain none of the secrets the run created: tokens, broker passwords, the
webhook's key and signing secret, the pseudonymisation keys."""

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
from civicpulse.settings import SERVICES
from civicpulse_demo import get_json, run_flow, url
from services.news.channels.receiver import WebhookReceiver
from tests.helpers import wait_for

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


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret=secrets.token_hex(16), fail_first=1).start()
    yield receiver
    receiver.stop()


def test_each_service_runs_with_its_own_broker_user_and_no_secret_reaches_the_logs(
        locked_vhost: dict[str, Any], suite_env: dict[str, str], webhook: WebhookReceiver,
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    uris = locked_vhost["uris"]
    hook_key = f"hookkey{secrets.token_hex(8)}"
    created = {"webhook key": hook_key, "webhook secret": webhook.secret,
               "sentiment pseudonym key": secrets.token_hex(16),
               "news pseudonym key": secrets.token_hex(16)}
    suite_env.update({"NEWS_WEBHOOK_URL": f"{webhook.url}?key={hook_key}",
                      "NEWS_WEBHOOK_SECRET": webhook.secret, "NEWS_QUEUE_BASE_SECONDS": "0.5",
                      "SENTIMENT_PSEUDONYM_KEY": created["sentiment pseudonym key"],
                      "NEWS_PSEUDONYM_KEY": created["news pseudonym key"],
                      # the definitions declare the queues quorum, as compose and Kubernetes run
                      "CIVICPULSE_QUORUM_QUEUES": "true"})
    for svc in SERVICES:
        suite_env[f"{svc.upper()}_AMQP_URI"] = uris[svc]
        created[f"{svc} broker password"] = uris[svc].split(":")[2].split("@")[0]
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

    # --- no secret in logs, metrics, timeline or the published item --------------------------
    assert flow.creds is not None
    created.update({f"{role} token": t for role, t in flow.creds.reviewers.items()})
    created["collector token"] = flow.creds.collector
    created["collector broker password"] = uris["collector"].split(":")[2].split("@")[0]

    def webhook_sent() -> dict[str, Any] | None:
        item = get_json("news", f"/items/{flow.item['id']}", flow.reader)
        return item if item["channels"]["webhook"]["status"] == "sent" else None

    item = wait_for(webhook_sent, timeout=60)
    assert webhook.refused == 1 and len(webhook.received) == 1, "it failed once, then went"
    logs = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "logs").glob("*.log"))
    assert {p.stem for p in (tmp_path / "logs").glob("*.log")} >= set(SERVICES)
    assert "on webhook failed" in logs, "the failure was logged"
    metrics = "\n".join(requests.get(url(svc, "/metrics"), timeout=10).text for svc in SERVICES)
    places = {"logs": logs, "metrics": metrics, "timeline": json.dumps(flow.ticket["timeline"]),
              "item": json.dumps(item, ensure_ascii=False)}
    leaks = [(what, where) for what, secret in created.items() for where, text in places.items()
             if secret and secret in text]
    assert leaks == []
