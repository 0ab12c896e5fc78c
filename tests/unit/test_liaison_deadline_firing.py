"""Deadline firing on SQLite: one row that cannot fire (here its ticket's level is no longer in
the plan) is logged and passed over; the deadlines after it still fire, and it stays unfired
for the next scan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from civicpulse.envelope import new_event, utcnow
from services.liaison import config, db, incidents
from services.liaison.deadline_timers import fire_due


def open_ticket(uow: Any, incident: str, opened_at: Any) -> str:
    effect = incidents.open_ticket(uow(), new_event("sentiment.incident.detected", {
        "incident_id": incident, "topic": "deputies", "level": "IV",
        "detected_at": opened_at.isoformat(), "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=incident, tlp="AMBER"), config.load(),
        now=opened_at)
    assert effect is not None
    return effect.ticket_id


def test_a_failing_deadline_does_not_stop_the_later_ones(
        uow_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    uow = uow_factory("liaison")
    cfg = config.load()
    long_ago = utcnow() - timedelta(days=2)
    broken = open_ticket(uow, "inc-broken", long_ago)  # its deadlines fall due first
    sound = open_ticket(uow, "inc-sound", long_ago + timedelta(minutes=1))
    with uow() as u:
        u.session.execute(update(db.tickets).where(db.tickets.c.id == broken)
                          .values(level="no-such-level"))
        u.commit()

    fired = fire_due(uow, cfg)
    assert fired and {f["ticket_id"] for f in fired} == {sound}
    assert "could not fire" in caplog.text
    with uow() as u:
        unfired = u.session.execute(select(db.deadlines.c.ticket_id).where(
            db.deadlines.c.fired_at.is_(None), db.deadlines.c.due_at <= utcnow())).scalars()
        assert set(unfired) == {broken}  # left for the next scan
    assert fire_due(uow, cfg) == []  # the next scan: still passed over, nothing else to do
