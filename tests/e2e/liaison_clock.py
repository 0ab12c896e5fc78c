"""Moving a ticket's plan deadline into the past (in liaison's database), so the deadline scan
fires now what would fire in an hour: used by tests that need a missed deadline and its RED
escalation (withheld from every partner)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import create_engine, update

from civicpulse.envelope import utcnow
from services.liaison import db as liaison_db


def miss_acknowledge_deadline(database_url: str, ticket_id: str) -> None:
    """The ticket's acknowledge deadline passed five minutes ago (the scan escalates it to the
    leader in charge with a RED notice within its interval)."""
    past = utcnow() - timedelta(minutes=5)
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(update(liaison_db.tickets).where(liaison_db.tickets.c.id == ticket_id)
                         .values(acknowledge_due_at=past))
            conn.execute(update(liaison_db.deadlines).where(
                liaison_db.deadlines.c.ticket_id == ticket_id,
                liaison_db.deadlines.c.kind == "acknowledge").values(due_at=past))
    finally:
        engine.dispose()
