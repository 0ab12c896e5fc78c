"""A tiny service that exercises the platform (not a CivicPulse service): it consumes
`sentiment.incident.detected`, records each applied event id, and can be told to fail."""

from __future__ import annotations

from pathlib import Path

from nameko.events import EventDispatcher
from nameko.rpc import rpc
from nameko.timer import timer

from civicpulse.consumers import handles
from civicpulse.envelope import Envelope, new_event
from civicpulse.errors import ContractViolation
from civicpulse.runtime import Platform

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "sentiment" / "migrations"
APPLIED: list[str] = []
ATTEMPTS: dict[str, int] = {}
TICKS: list[int] = []


class ProbeService:
    name = "probe"
    platform = Platform("probe", MIGRATIONS)
    dispatch = EventDispatcher()

    @handles("sentiment.incident.detected")
    def on_incident(self, event: Envelope) -> None:
        mode = event.payload.get("probe_mode", "ok")
        ATTEMPTS[event.id] = ATTEMPTS.get(event.id, 0) + 1
        if mode == "permanent":
            raise ContractViolation("probe refuses this one")
        if mode == "flaky" and ATTEMPTS[event.id] < 3:
            raise ConnectionError("dependency briefly down")
        uow = self.platform.uow()
        with uow:
            if not uow.first_time(event, "probe.on_incident"):
                return
            APPLIED.append(event.id)
            uow.commit()

    @rpc
    def applied(self) -> list[str]:
        return list(APPLIED)

    @rpc
    def emit(self, incident_id: str) -> str:
        """Record an event through the outbox (it comes back to on_incident via the relay)."""
        ev = incident(incident_id)
        uow = self.platform.uow()
        with uow:
            uow.publish(ev)
            uow.commit()
        return ev.id

    @timer(interval=0.1)
    def tick(self) -> None:
        TICKS.append(1)


def incident(incident_id: str, **extra: object) -> Envelope:
    return new_event("sentiment.incident.detected", {
        "incident_id": incident_id, "topic": "office", "level": "IV",
        "detected_at": "2026-11-27T08:00:00+00:00", "negative_count": 6, "volume": 6,
        "negative_ratio": 1.0, **extra}, correlation_id=incident_id, tlp="AMBER")
