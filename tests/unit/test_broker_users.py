"""The broker users in deploy/rabbitmq/definitions.json are generated from
civicpulse.broker_users, and that table matches what the services consume."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

from civicpulse import broker_users
from civicpulse.consumers import EventConsumer
from civicpulse.settings import SERVICE_CLASSES, SERVICES

DEFINITIONS = Path(__file__).parents[2] / "deploy" / "rabbitmq" / "definitions.json"


def consumed_sources(service: str) -> set[str]:
    module, _, name = SERVICE_CLASSES[service].partition(":")
    cls = getattr(importlib.import_module(module), name)
    return {e.source_service for attr in vars(cls).values()
            for e in getattr(attr, "nameko_entrypoints", ()) if isinstance(e, EventConsumer)}


def test_definitions_json_is_what_the_table_generates() -> None:
    on_file = json.loads(DEFINITIONS.read_text())
    generated = broker_users.definitions()
    for key in ("users", "permissions", "topic_permissions"):
        assert on_file[key] == generated[key], f"{key}: run python -m civicpulse.broker_users"


def test_every_service_has_its_own_user_and_only_the_operator_has_everything() -> None:
    definitions = broker_users.definitions()
    assert {u["name"] for u in definitions["users"]} == {*SERVICES, "admin", "collector"}
    assert all(u["password_hash"] == "" for u in definitions["users"]), "no password on file"
    for p in definitions["permissions"]:
        if p["user"] != "admin":
            assert ".*" not in (p["configure"], p["write"], p["read"]), p["user"]


def test_the_table_matches_the_handlers_of_each_service() -> None:
    for service in SERVICES:
        assert consumed_sources(service) <= set(broker_users.CONSUMES[service]), service


def test_a_service_may_write_its_own_exchange_only() -> None:
    for service in SERVICES:
        write = re.compile(broker_users.service_permissions(service)["write"])
        assert write.match(f"{service}.events") and write.match(f"{service}.retry")
        assert not write.match("amq.default")
        assert service == "sentiment" or not write.match("sentiment.mentions")
        for other in set(SERVICES) - {service}:
            assert not write.match(f"{other}.events"), (service, other)
            assert not write.match(f"civicpulse.dlq.{other}"), (service, other)
    queue = "evt-review-review.case.approved--news.on_case_approved"
    news = broker_users.service_permissions("news")
    assert all(re.match(news[k], queue) and re.match(news[k], queue + ".retry")
               for k in ("configure", "write", "read"))
    assert not re.match(news["read"], queue.replace("--news.", "--liaison."))
    liaison_read = re.compile(broker_users.service_permissions("liaison")["read"])
    assert not liaison_read.match("partner.cac"), "liaison binds partner queues, never reads them"


def test_a_collector_writes_mentions_only() -> None:
    perms = broker_users.collector_permissions()
    assert re.match(perms["write"], "sentiment.mentions")
    assert not re.match(perms["write"], "amq.default")
    assert perms["configure"] == perms["read"] == "^$"
