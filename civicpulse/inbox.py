"""The inbox: the ids of events a consumer has applied, written in the effect's transaction."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from civicpulse.envelope import utcnow
from civicpulse.tables import inbox_table


def claim(session: Session, event_id: str, consumer: str) -> bool:
    """Record that `consumer` applies `event_id`; False if it already had (a duplicate).

    INSERT ... ON CONFLICT DO NOTHING: a concurrent duplicate waits for the first transaction
    and then finds the row, so exactly one of them applies the effect.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(inbox_table).values(consumer=consumer, event_id=event_id,
                                      applied_at=utcnow()).on_conflict_do_nothing()
    return session.execute(stmt.returning(inbox_table.c.event_id)).first() is not None
