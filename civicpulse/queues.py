"""Arguments every declaration of a durable queue agrees on (RabbitMQ refuses a redeclaration
whose arguments differ), in one place and free of any AMQP client, so that use cases that
declare queues through the management API can use them too."""

from __future__ import annotations

from typing import Any

from civicpulse.settings import quorum_queues


def replicated() -> dict[str, Any]:
    """Arguments that make a durable queue a quorum queue when `CIVICPULSE_QUORUM_QUEUES` is on,
    so that no queue of the suite — consumer, retry, dead-letter, unrouted, partner, work queue —
    lives on one node of a cluster only. Empty (a classic queue) otherwise."""
    return {"x-queue-type": "quorum"} if quorum_queues() else {}
