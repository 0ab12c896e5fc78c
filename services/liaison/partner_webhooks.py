"""Webhook delivery to partner agencies: the use cases.

An agency may have one HTTPS endpoint (`civicpulse partners webhook AGENCY URL`). Every share to
it (handlers' share step: the same TLP decision that feeds its queue, so the two cannot differ;
RED is never shared, so never posted) also records a pending delivery, in the share's own
transaction (`enqueue`: an outbox). The sender (`send_pass`, run by webhook_sender) leases one
agency at a time, POSTs its pending deliveries in order (the envelope exactly as its queue got
it, signed like the news webhooks: civicpulse.webhooks), records each outcome before the next
POST, and on a failure backs the whole agency off (exponential, capped) and stops. A delivery
still failing `dead_after_seconds` after it was recorded is dead-lettered with the reason.
At least once: a sender that dies mid-POST leaves the lease to run out and another sends the one
delivery in flight again (same `webhook-id` = event `id`; receivers de-duplicate by it).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from civicpulse.backoff import backoff_ms
from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, utcnow
from civicpulse.redaction import redact_url
from civicpulse.settings import WebhookSettings
from services.liaison import metrics
from services.liaison import webhook_store as store
from services.liaison.webhook_transport import Answer

log = logging.getLogger(__name__)
SECRET_BYTES = 32
MAX_LOG = 500


class InvalidWebhookUrl(ValueError):
    pass


class NoWebhook(LookupError):
    pass


class Poster(Protocol):
    def post(self, url: str, secret: str, agency: str, event_id: str, event_type: str,
             body: bytes) -> Answer: ...


# --- configuration (the CLI) ------------------------------------------------------------------

def check_url(url: str) -> str:
    """An absolute https:// URL with a host and no user:password (they would end up in logs)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise InvalidWebhookUrl("the webhook URL must be https:// (the events are AMBER)")
    if not parts.hostname:
        raise InvalidWebhookUrl("the webhook URL has no host")
    if parts.username or parts.password:
        raise InvalidWebhookUrl("put no credentials in the webhook URL; the signature "
                                "authenticates the sender")
    if parts.fragment:
        raise InvalidWebhookUrl("the webhook URL must not have a #fragment")
    return url


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


@dataclass(frozen=True)
class Configured:
    agency: str
    url: str
    secret: str | None  # set when a secret was (re)issued: shown once

    def lines(self) -> list[tuple[str, str]]:
        out = [("agency", self.agency), ("webhook_url", redact_url(self.url))]
        return out + ([("webhook_secret", self.secret)] if self.secret else [])


def configure(session: Session, agency: str, url: str | None, now: datetime,
              rotate_secret: bool = False) -> Configured:
    """Set (or change) the agency's endpoint; a new endpoint or `rotate_secret` issues a
    secret (the old one stops verifying at once)."""
    current = store.endpoint(session, agency)
    if url is None:
        if current is None:
            raise NoWebhook(f"{agency} has no webhook; give its URL")
        url = current["url"]
    check_url(url)
    secret = new_secret() if current is None or rotate_secret else None
    store.put_endpoint(session, agency, url, secret, now)
    return Configured(agency, url, secret)


def remove(session: Session, agency: str, now: datetime) -> int:
    """Delete the endpoint; its pending deliveries are dead-lettered (returned: how many)."""
    if not store.delete_endpoint(session, agency):
        raise NoWebhook(f"{agency} has no webhook")
    killed = store.kill_pending(session, agency, "webhook removed by the office", now)
    if killed:
        metrics.WEBHOOK_DELIVERIES.labels(agency, "dead").inc(killed)
    return killed


def redeliver_dead(session: Session, agency: str, now: datetime) -> int:
    """Send the agency's dead-lettered deliveries again (after its endpoint was fixed): back to
    pending, the time bound starting again, the agency's backoff cleared. How many."""
    current = store.endpoint(session, agency)
    if current is None:
        raise NoWebhook(f"{agency} has no webhook")
    revived = store.revive_dead(session, agency, now)
    store.put_endpoint(session, agency, current["url"], None, now)  # clears the backoff
    return revived


def remove_if_any(session: Session, agency: str, now: datetime) -> bool:
    """`partners remove`: an agency without access gets no webhook either."""
    if store.endpoint(session, agency) is None:
        return False
    remove(session, agency, now)
    return True


def status(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every endpoint (no secrets) with its pending deliveries (`partners webhooks`)."""
    pending = store.pending_by_agency(session)
    out = []
    for e in store.endpoints(session):
        n, oldest = pending.get(e["agency"], (0, None))
        out.append({"agency": e["agency"], "url": redact_url(e["url"]), "pending": n,
                    "oldest_pending_seconds": _age(oldest, now), "failures": e["failures"],
                    "next_attempt_at": _iso(e["next_attempt_at"])})
    return out


# --- the outbox side: called in the share's transaction -----------------------------------------

def enqueue(session: Session, agency: str, event: Envelope, now: datetime) -> bool:
    """Record a pending delivery of a shared event if the agency has a webhook."""
    return store.enqueue(session, agency, event.id, event.type, event.tlp, now)


# --- sending ------------------------------------------------------------------------------------

def backoff(failures: int, cfg: WebhookSettings) -> timedelta:
    """After `failures` consecutive failed attempts: base, 2·base, 4·base … capped."""
    return timedelta(milliseconds=backoff_ms(failures, cfg.backoff_base_seconds,
                                              cfg.backoff_cap_seconds))


def verdict(created_at: datetime, now: datetime, attempts: int, error: str,
            cfg: WebhookSettings) -> str | None:
    """The dead-letter reason if a delivery that just failed has run out of time, else None."""
    age = (now - _aware(created_at)).total_seconds()
    if age < cfg.dead_after_seconds:
        return None
    return (f"gave up after {attempts} attempts over {age:.0f} s "
            f"(limit {cfg.dead_after_seconds:.0f} s); last error: {error}")


def send_pass(uow: UnitOfWork, poster: Poster, cfg: WebhookSettings, owner: str,
              clock: Callable[[], datetime] = utcnow) -> int:
    """Lease one agency and POST its due deliveries in order until one fails; the number of
    POSTs made (0: nothing was due)."""
    now = clock()
    with uow:
        agency = store.claim_agency(uow.session, now,
                                    now + timedelta(seconds=cfg.lease_seconds), owner)
        rows = store.pending_of(uow.session, agency["agency"], cfg.batch) if agency else []
        uow.commit()
    if agency is None:
        return 0
    sent, failures = 0, agency["failures"]
    for row in rows:
        answer = poster.post(agency["url"], agency["secret"], row["agency"], row["event_id"],
                             row["event_type"], row["body"].encode("utf-8"))
        sent += 1
        failures = 0 if answer.delivered else failures + 1
        if not _record(uow, agency["agency"], owner, row, answer, failures, cfg, clock()):
            return sent  # lost the lease (took too long): another sender has the agency now
        if not answer.delivered:
            return sent
    _release(uow, agency["agency"], owner, failures)
    return sent


def _record(uow: UnitOfWork, agency: str, owner: str, row: dict[str, Any], answer: Answer,
            failures: int, cfg: WebhookSettings, now: datetime) -> bool:
    """One attempt's outcome, the agency's backoff and a renewed lease, in one transaction."""
    attempts = row["attempts"] + 1
    dead = None if answer.delivered else verdict(row["created_at"], now, attempts,
                                                 answer.error or "", cfg)
    status = "delivered" if answer.delivered else "dead" if dead else "pending"
    outcome = "delivered" if answer.delivered else "dead" if dead else "failed"
    with uow:
        held = store.hold_agency(
            uow.session, agency, owner, failures,
            None if answer.delivered else now + backoff(failures, cfg),
            now + timedelta(seconds=cfg.lease_seconds) if answer.delivered else None)
        store.record_attempt(uow.session, row, now, status, outcome, answer.http_status,
                             dead or answer.error, answer.duration_ms)
        expired = store.kill_expired(
            uow.session, agency, now - timedelta(seconds=cfg.dead_after_seconds),
            f"expired unsent: older than {cfg.dead_after_seconds:.0f} s while the endpoint "
            f"kept failing (last error: {answer.error})", now) if dead else 0
        uow.commit()
    metrics.WEBHOOK_DELIVERIES.labels(agency, outcome).inc()
    if expired:
        metrics.WEBHOOK_DELIVERIES.labels(agency, "dead").inc(expired)
    if dead:
        log.warning("webhook delivery %s of %s to %s dead-lettered: %s", row["id"],
                    row["event_id"], agency, dead)
    return held


def _release(uow: UnitOfWork, agency: str, owner: str, failures: int) -> None:
    with uow:
        store.hold_agency(uow.session, agency, owner, failures, None, None)
        uow.commit()


# --- the agency's delivery log ------------------------------------------------------------

def delivery_log(uow: UnitOfWork, agency: str, status: str | None = None,
                 event_id: str | None = None, limit: int = 100) -> dict[str, Any]:
    """The agency's own deliveries, newest first, each with its attempts (oldest first)."""
    with uow:
        e = store.endpoint(uow.session, agency)
        rows = store.deliveries(uow.session, agency, status=status, event_id=event_id,
                                limit=min(limit, MAX_LOG))
        tries = store.attempts_of(uow.session, [r["id"] for r in rows])
    webhook = None if e is None else {
        "url": redact_url(e["url"]), "created_at": _iso(e["created_at"]),
        "secret_rotated_at": _iso(e["secret_rotated_at"]), "failures": e["failures"],
        "next_attempt_at": _iso(e["next_attempt_at"])}
    return {"agency": agency, "webhook": webhook,
            "deliveries": [_public(r, tries[r["id"]]) for r in rows]}


def one_delivery(uow: UnitOfWork, delivery_id: str) -> dict[str, Any] | None:
    """A delivery with its attempts, and whose it is (the caller checks the agency)."""
    with uow:
        row = store.delivery(uow.session, delivery_id)
        tries = store.attempts_of(uow.session, [delivery_id]) if row else {}
    return None if row is None else _public(row, tries[delivery_id])


def _public(row: dict[str, Any], tries: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("id", "agency", "event_id", "event_type", "tlp", "status", "attempts",
            "created_at", "last_attempt_at", "finished_at", "last_error")
    return {**{k: _iso(row[k]) for k in keys},
            "attempt_log": [{"at": _iso(t["at"]), "outcome": t["outcome"],
                             "http_status": t["http_status"], "error": t["error"],
                             "duration_ms": t["duration_ms"]} for t in tries]}


# --- gauges ------------------------------------------------------------------------------------

def observe(uow: UnitOfWork, now: datetime | None = None) -> None:
    """Refresh the pending and oldest-pending gauges (on scrape); 0 for agencies without."""
    now = now or utcnow()
    with uow:
        pending = store.pending_by_agency(uow.session)
        agencies = {e["agency"] for e in store.endpoints(uow.session)} | set(pending)
    metrics.WEBHOOK_PENDING.clear()
    metrics.WEBHOOK_OLDEST_PENDING.clear()
    for agency in sorted(agencies):
        n, oldest = pending.get(agency, (0, None))
        metrics.WEBHOOK_PENDING.labels(agency).set(n)
        metrics.WEBHOOK_OLDEST_PENDING.labels(agency).set(_age(oldest, now) or 0.0)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _age(value: datetime | None, now: datetime) -> float | None:
    return None if value is None else max(0.0, (now - _aware(value)).total_seconds())


def _iso(value: Any) -> Any:
    return _aware(value).isoformat() if isinstance(value, datetime) else value
