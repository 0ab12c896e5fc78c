"""Durable deadlines on the real RabbitMQ and PostgreSQL: a deadline that falls due while the
service is down fires once when a new container starts, and never again after a restart."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from civicpulse.envelope import new_event, utcnow
from civicpulse.tables import outbox_table
from services.liaison import config, db, incidents, ticket_views
from services.liaison.service import LiaisonService
from tests.conftest import make_uow

pytestmark = pytest.mark.integration
INC = "inc-deadline-it"


def escalations(uow: Any) -> tuple[int, int, int]:
    """(overdue events in the outbox, escalation timeline entries, fired step-1 rows)."""
    with uow() as u:
        s = u.session
        events = s.execute(select(func.count()).select_from(outbox_table).where(
            outbox_table.c.event_type == "liaison.ticket.overdue",
            outbox_table.c.exchange == "liaison.events")).scalar_one()
        entries = s.execute(select(func.count()).select_from(db.timeline).where(
            db.timeline.c.kind == "deadline.escalated")).scalar_one()
        fired = s.execute(select(func.count()).select_from(db.deadlines).where(
            db.deadlines.c.kind == "acknowledge", db.deadlines.c.step == 1,
            db.deadlines.c.fired_at.is_not(None))).scalar_one()
    return events, entries, fired


def test_restart_neither_loses_nor_repeats_an_escalation(
        container_factory: Any, rabbit_config: dict[str, Any], pg_database: str,
        monkeypatch: pytest.MonkeyPatch, rabbitmq: str) -> None:
    monkeypatch.setenv("LIAISON_DATABASE_URL", pg_database)
    uow = make_uow("liaison", pg_database)
    cfg = config.load()
    ack_minutes = cfg.plan.for_level("IV").deadlines.acknowledge
    # a ticket opened so long ago that its acknowledge deadline falls due in ~1.5 s
    opened_at = utcnow() - timedelta(minutes=ack_minutes) + timedelta(seconds=1.5)
    event = new_event("sentiment.incident.detected", {
        "incident_id": INC, "topic": "deputies", "level": "IV",
        "detected_at": opened_at.isoformat(), "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=INC, tlp="AMBER")
    effect = incidents.open_ticket(uow(), event, cfg, now=opened_at)
    assert effect is not None

    first = container_factory(LiaisonService, rabbit_config)
    first.start()
    first.stop()  # stopped before the deadline
    assert escalations(uow) == (0, 0, 0)
    time.sleep(2.0)  # the deadline passes while no liaison runs
    assert escalations(uow) == (0, 0, 0)

    second = container_factory(LiaisonService, rabbit_config)
    second.start()
    deadline = time.monotonic() + 15
    while escalations(uow)[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)  # more scans: nothing further
    second.stop()
    assert escalations(uow) == (1, 1, 1)

    third = container_factory(LiaisonService, rabbit_config)
    third.start()
    time.sleep(2.5)  # two scans or more
    third.stop()
    assert escalations(uow) == (1, 1, 1)

    ticket = ticket_views.get_ticket(uow(), effect.ticket_id)
    assert ticket is not None
    entry = next(e for e in ticket["timeline"] if e["kind"] == "deadline.escalated")
    assert "分管领导" in entry["text"] and "RED" in entry["text"] and entry["pinned"]
    # RED: the leader's notice never left the office
    assert not [s for s in ticket["shares"] if s["event_type"] == "liaison.ticket.overdue"]
    # the chain goes on: step 2 (the partners' leads) is scheduled, not yet due (step 0, the
    # warning before the deadline, fired with the first scan)
    with uow() as u:
        steps = u.session.execute(select(db.deadlines.c.step, db.deadlines.c.fired_at).where(
            db.deadlines.c.kind == "acknowledge").order_by(db.deadlines.c.step)).all()
    assert [s for s, _ in steps] == [0, 1, 2] and steps[0][1] is not None
    assert steps[2][1] is None
