"""Webhook delivery tables' queries (SQLAlchemy Core): the agencies' endpoints, the deliveries
(one per share to an agency with an endpoint) and their attempts (the delivery log).

The sender leases an *agency*, not a row: `claim_agency` takes one agency whose backoff is over,
whose lease is free and which has pending deliveries (FOR UPDATE SKIP LOCKED on PostgreSQL, so
two replicas never take the same one), and sets `lease_until`. Its deliveries then go out in
order, one at a time, each outcome committed before the next POST.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from services.liaison import db

pw, wd, wa = db.partner_webhooks, db.webhook_deliveries, db.webhook_attempts


# --- endpoints -------------------------------------------------------------------------------

def endpoint(session: Session, agency: str) -> dict[str, Any] | None:
    row = session.execute(select(pw).where(pw.c.agency == agency)).mappings().first()
    return dict(row) if row else None


def endpoints(session: Session) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(select(pw).order_by(pw.c.agency)).mappings()]


def put_endpoint(session: Session, agency: str, url: str, secret: str | None,
                 now: datetime) -> None:
    """Create the agency's endpoint (a secret is then required) or change its URL (and its
    secret, if one is given); a changed endpoint gets a fresh start (no backoff)."""
    values: dict[str, Any] = {"url": url, "failures": 0, "next_attempt_at": None}
    if secret is not None:
        values.update(secret=secret, secret_rotated_at=now)
    done = session.execute(update(pw).where(pw.c.agency == agency).values(**values)).rowcount
    if not done:
        if secret is None:
            raise ValueError("a new webhook endpoint needs a secret")
        session.execute(insert(pw).values(agency=agency, url=url, secret=secret, created_at=now,
                                          secret_rotated_at=None, failures=0))


def delete_endpoint(session: Session, agency: str) -> bool:
    return bool(session.execute(delete(pw).where(pw.c.agency == agency)).rowcount)


# --- deliveries ------------------------------------------------------------------------------

def record_delivery(session: Session, agency: str, event_id: str, event_type: str, tlp: str,
                    now: datetime) -> bool:
    """One pending delivery of a shared event to `agency` (False if it already has one)."""
    found = session.execute(select(wd.c.id).where(wd.c.agency == agency,
                                                  wd.c.event_id == event_id)).first()
    if found is not None:
        return False
    session.execute(insert(wd).values(
        id=str(uuid.uuid4()), agency=agency, event_id=event_id, event_type=event_type, tlp=tlp,
        status="pending", attempts=0, created_at=now))
    return True


def enqueue(session: Session, agency: str, event_id: str, event_type: str, tlp: str,
            now: datetime) -> bool:
    """Record a pending delivery of a shared event if the agency has a webhook (called in the
    share's own transaction: an outbox)."""
    if endpoint(session, agency) is None:
        return False
    return record_delivery(session, agency, event_id, event_type, tlp, now)


def claim_agency(session: Session, now: datetime, lease_until: datetime,
                 owner: str) -> dict[str, Any] | None:
    """Lease one agency that has pending deliveries and may be sent to now."""
    pending = exists().where(wd.c.agency == pw.c.agency, wd.c.status == "pending")
    row = session.execute(
        select(pw).where(or_(pw.c.next_attempt_at.is_(None), pw.c.next_attempt_at <= now),
                         or_(pw.c.lease_until.is_(None), pw.c.lease_until <= now), pending)
        .order_by(pw.c.next_attempt_at.is_not(None), pw.c.next_attempt_at, pw.c.agency)
        .limit(1).with_for_update(skip_locked=True, of=pw)).mappings().first()
    if row is None:
        return None
    session.execute(update(pw).where(pw.c.agency == row["agency"])
                    .values(lease_until=lease_until, lease_owner=owner))
    return dict(row)


def pending_of(session: Session, agency: str, limit: int) -> list[dict[str, Any]]:
    """The agency's pending deliveries, oldest first, each with the shared envelope (the very
    body its queue received: `shared_events.body`)."""
    se = db.shared_events
    rows = session.execute(
        select(wd, se.c.body).join(se, se.c.event_id == wd.c.event_id)
        .where(wd.c.agency == agency, wd.c.status == "pending")
        .order_by(wd.c.created_at, wd.c.id).limit(limit)).mappings()
    return [dict(r) for r in rows]


def record_attempt(session: Session, delivery: dict[str, Any], now: datetime, status: str,
                   outcome: str, http_status: int | None, error: str | None,
                   duration_ms: int) -> None:
    """The delivery's new state and one line of its log."""
    values: dict[str, Any] = {"status": status, "attempts": wd.c.attempts + 1,
                              "last_attempt_at": now, "last_error": error}
    if status != "pending":
        values["finished_at"] = now
    session.execute(update(wd).where(wd.c.id == delivery["id"]).values(**values))
    session.execute(insert(wa).values(delivery_id=delivery["id"], at=now, outcome=outcome,
                                      http_status=http_status, error=error,
                                      duration_ms=duration_ms))


def hold_agency(session: Session, agency: str, owner: str, failures: int,
                next_attempt_at: datetime | None, lease_until: datetime | None) -> bool:
    """Set the agency's backoff and lease; False if `owner` no longer holds its lease."""
    return bool(session.execute(
        update(pw).where(pw.c.agency == agency, pw.c.lease_owner == owner)
        .values(failures=failures, next_attempt_at=next_attempt_at, lease_until=lease_until,
                lease_owner=owner if lease_until is not None else None)).rowcount)


def kill_expired(session: Session, agency: str, created_before: datetime, reason: str,
                 now: datetime) -> int:
    """Dead-letter the agency's pending deliveries recorded before `created_before`."""
    return session.execute(update(wd).where(wd.c.agency == agency, wd.c.status == "pending",
                                            wd.c.created_at < created_before)
                           .values(status="dead", finished_at=now, last_error=reason)).rowcount


def kill_pending(session: Session, agency: str, reason: str, now: datetime) -> int:
    """Dead-letter every pending delivery of `agency` (its endpoint was removed)."""
    return session.execute(update(wd).where(wd.c.agency == agency, wd.c.status == "pending")
                           .values(status="dead", finished_at=now, last_error=reason)).rowcount


def revive_dead(session: Session, agency: str, now: datetime) -> int:
    """Put the agency's dead deliveries back to pending, in their order; their time bound
    starts again now (a microsecond apart, so they keep their order)."""
    ids = list(session.execute(select(wd.c.id).where(wd.c.agency == agency,
                                                     wd.c.status == "dead")
                               .order_by(wd.c.created_at, wd.c.id)).scalars())
    for n, delivery_id in enumerate(ids):
        session.execute(update(wd).where(wd.c.id == delivery_id).values(
            status="pending", created_at=now + timedelta(microseconds=n), finished_at=None))
    return len(ids)


# --- the log and the gauges --------------------------------------------------------------------

def deliveries(session: Session, agency: str, *, status: str | None = None,
               event_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    q = select(wd).where(wd.c.agency == agency)
    if status:
        q = q.where(wd.c.status == status)
    if event_id:
        q = q.where(wd.c.event_id == event_id)
    rows = session.execute(q.order_by(wd.c.created_at.desc(), wd.c.id).limit(limit)).mappings()
    return [dict(r) for r in rows]


def delivery(session: Session, delivery_id: str) -> dict[str, Any] | None:
    row = session.execute(select(wd).where(wd.c.id == delivery_id)).mappings().first()
    return dict(row) if row else None


def attempts_of(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(select(wa).where(wa.c.delivery_id.in_(ids))
                               .order_by(wa.c.id)).mappings()
        for r in rows:
            out[r["delivery_id"]].append(dict(r))
    return out


def pending_by_agency(session: Session) -> dict[str, tuple[int, datetime]]:
    """agency → (pending deliveries, the oldest one's creation)."""
    rows = session.execute(
        select(wd.c.agency, func.count(), func.min(wd.c.created_at))
        .where(wd.c.status == "pending").group_by(wd.c.agency)).all()
    return {agency: (n, oldest) for agency, n, oldest in rows}
