"""The partner topology: exchange `civicpulse.partners` and one queue per agency.

Each agency in the directory gets a durable queue `partner.<code>` bound to the durable direct
exchange with routing key `<code>`; the outbox relay publishes shares there. The provider
declares it when the service starts (and, being the service's `civicpulse.config.Config`,
validates the liaison configuration in setup, so a broken plan or directory stops the service
before it consumes anything), and seeds the
`agencies` table from the same configuration (agency_directory.seed, an idempotent upsert).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import kombu

from civicpulse import queues
from civicpulse.config import Config
from civicpulse.envelope import utcnow
from civicpulse.outbox import PARTNER_EXCHANGE
from civicpulse.runtime import Platform
from services.liaison import agency_directory, config
from services.liaison.domain import partner_queue_name

log = logging.getLogger(__name__)


def partner_exchange() -> kombu.Exchange:
    return kombu.Exchange(PARTNER_EXCHANGE, type="direct", durable=True)


def partner_queues(codes: Iterable[str]) -> list[kombu.Queue]:
    exchange = partner_exchange()
    return [kombu.Queue(partner_queue_name(c), exchange=exchange, routing_key=c, durable=True,
                        queue_arguments=queues.replicated()) for c in codes]


def declare_partner_topology(uri: str, codes: Iterable[str]) -> list[str]:
    """Declare the exchange, the queues and their bindings; return the queue names."""
    queues = partner_queues(codes)
    with kombu.Connection(uri, connect_timeout=5) as conn:
        conn.ensure_connection(max_retries=3)
        channel = conn.channel()
        partner_exchange()(channel).declare()
        for q in queues:
            q(channel).declare()
    return [q.name for q in queues]


class PartnerTopology(Config):
    """The service's configuration provider (`civicpulse.config.Config` of the validated
    LiaisonConfig: workers get it, `@every` timers read their interval from it) that also
    declares the partner queues on the broker and seeds the agency directory in the database
    (through the service's Platform, set up by then) when the container starts."""

    def __init__(self) -> None:
        super().__init__(config.load)
        self.queues: list[str] = []

    def start(self) -> None:
        self.queues = declare_partner_topology(self.container.config["AMQP_URI"],
                                               self.value().directory)
        log.info("partner topology declared: %s", ", ".join(self.queues))
        self.seed_directory()

    def seed_directory(self) -> None:
        platform = next((d for d in self.container.dependencies if isinstance(d, Platform)),
                        None)
        if platform is None:
            return
        seeded = agency_directory.seed_with(platform.handle.uow(), self.value(), utcnow())
        log.info("agency directory seeded: inserted %s, updated %s, deactivated %s",
                 list(seeded.inserted), list(seeded.updated), list(seeded.deactivated))
