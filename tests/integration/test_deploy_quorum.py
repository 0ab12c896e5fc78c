"""Quorum queues are on by default where the suite is deployed (compose, Kubernetes); in a
process the setting gives each consumer queue a dead-letter exchange (never dropped past the
delivery limit; the broker behaviour is tested in test_consumer.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from civicpulse import deadletter

ROOT = Path(__file__).resolve().parents[2]


def test_compose_and_kubernetes_turn_quorum_queues_on() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["x-civicpulse-env"]
    assert env["CIVICPULSE_QUORUM_QUEUES"] == "${CIVICPULSE_QUORUM_QUEUES:-true}"
    configmap = yaml.safe_load((ROOT / "deploy" / "k8s" / "configmap.yaml").read_text())
    assert configmap["data"]["CIVICPULSE_QUORUM_QUEUES"] == "true"


def test_quorum_arguments_always_name_a_dead_letter_exchange() -> None:
    args = deadletter.quorum_arguments("liaison", 10)
    assert args["x-queue-type"] == "quorum" and args["x-delivery-limit"] == 10
    assert args["x-dead-letter-exchange"] == deadletter.DLX
    assert args["x-dead-letter-routing-key"] == "liaison"  # = civicpulse.dlq.liaison's binding
    assert args["x-dead-letter-strategy"] == "at-least-once"
