"""Notify use cases: plan the deliveries an event calls for, send what is due, the inbox,
preferences and the delivery log.

Planning records every delivery (one row per event × recipient × channel) in the same
transaction that marks the event applied; sending happens afterwards, from those rows, so a
crash between the two loses nothing and a redelivered event plans nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import bindparam, func, insert, update

from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, utcnow
from civicpulse.serialize import aware, jsonable
from services.notify import db, domain, mail, metrics, robots
from services.notify.config import NotifyConfig
from services.notify.domain import Agency, Person, Preference
from services.notify.rendering import link_for, render

log = logging.getLogger(__name__)

People = Callable[[], Sequence[Person]]
Agencies = Callable[[], Mapping[str, Agency]]


def people_from(rows: Sequence[Mapping[str, Any]]) -> list[Person]:
    """review's staff directory (RPC answer) as Persons."""
    return [Person(r["name"], r["role"], r.get("section"), r.get("email"), r.get("im_id"))
            for r in rows]


def agencies_from(directory: Mapping[str, Any]) -> dict[str, Agency]:
    """liaison's agency directory (RPC answer): active agencies and their contact e-mails."""
    return {a["code"]: Agency(a["code"], a["name"],
                              tuple(c["email"] for c in a.get("contacts", []) if c.get("email")))
            for a in directory.get("agencies", []) if a.get("active", True)}


# --- planning ----------------------------------------------------------------------------------

def plan_event(uow: UnitOfWork, event: Envelope, cfg: NotifyConfig, people: People,
               agencies: Agencies, now: datetime | None = None) -> int:
    """Record the deliveries `event` calls for under the rules; the number recorded."""
    now = now or utcnow()
    rules = [r for r in cfg.rules_for(event.type) if r.applies(event.payload)]
    needs_agencies = any(a.kind == "agencies_of" for r in rules for a in r.to)
    needs_people = any(a.kind != "agencies_of" for r in rules for a in r.to)
    # the directories are asked before the transaction opens (RPC may take a while)
    staff = list(people()) if needs_people else []
    partners = dict(agencies()) if needs_agencies else {}
    with uow:
        if not uow.first_time(event, "notify.plan_event"):
            return 0
        seen = db.existing_keys(uow.session, event.id)
        recorded = 0
        for rule in rules:
            recorded += _plan_rule(uow, event, rule, cfg, staff, partners, seen, now)
        uow.commit()
    return recorded


def _plan_rule(uow: UnitOfWork, event: Envelope, rule: domain.Rule, cfg: NotifyConfig,
               staff: list[Person], partners: dict[str, Agency], seen: set[str],
               now: datetime) -> int:
    targets = domain.audience(rule, event.payload, staff, partners)
    names = [t.person for t in targets if t.person]
    prefs = {n: _preference(p) for n, p in db.preferences_of(uow.session, names).items()}
    urgent = rule.is_urgent(event.payload)
    planned = domain.plan(rule, targets, cfg.active_robots(rule.robots), urgent, prefs,
                          now.astimezone(cfg.timezone))
    link = link_for(cfg.console_url, rule.link, event.payload)
    msg = render(rule.template, event.type, event.payload, link, cfg.timezone)
    src = Source(event.id, event.type, event.correlation_id, rule.name)
    rows = []
    for p in planned:
        key = domain.dedupe_key(event.id, p.recipient, p.channel)
        if key not in seen:
            seen.add(key)
            rows.append(_row(src, p, key, urgent, msg, now))
    _insert(uow, rows)
    return len(rows)


@dataclass(frozen=True)
class Source:
    """What a delivery comes from: an event under a rule (or the day's digest)."""

    event_id: str
    event_type: str
    correlation_id: str | None
    rule: str


def _row(src: Source, p: domain.Planned, key: str, urgent: bool, msg: Any,
         now: datetime) -> dict[str, Any]:
    row = {"id": str(uuid.uuid4()), "dedupe_key": key, "event_id": src.event_id,
           "event_type": src.event_type, "correlation_id": src.correlation_id,
           "rule": src.rule, "recipient": p.recipient,
           "channel": p.channel, "address": p.address, "urgent": urgent,
           "subject": msg.subject[:300], "body": msg.body, "link": msg.link[:500],
           "status": "pending", "attempts": 0,
           "next_attempt_at": p.not_before.astimezone(UTC),
           "held_reason": p.held_reason, "created_at": now, "sent_at": None,
           "last_error": None}
    if p.channel == "inbox":
        row.update(status="sent", sent_at=now)
    elif not p.address:
        row.update(status="dead", last_error=f"no {p.channel} address for {p.recipient}")
    return row


def _insert(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Record planned deliveries (one statement); the inbox's are delivered by being here,
    those without an address are dead at once."""
    if not rows:
        return
    uow.session.execute(insert(db.deliveries), rows)
    for row in rows:
        if row["channel"] == "inbox":
            metrics.sent.labels("inbox").inc()
        elif row["status"] == "dead":
            _dead(uow, row, row["last_error"])


def _preference(row: Mapping[str, Any]) -> Preference:
    start, end = row.get("quiet_start"), row.get("quiet_end")
    return Preference(tuple(row["channels"]),
                      domain.parse_clock(start) if start else None,
                      domain.parse_clock(end) if end else None)


def _dead(uow: UnitOfWork, row: Mapping[str, Any], reason: str) -> None:
    metrics.dead.labels(row["channel"]).inc()
    log.warning("delivery %s to %s (%s) dead: %s", row["id"], row["recipient"], row["channel"],
                reason, extra={"correlation_id": row.get("correlation_id")})
    uow.publish(new_event("notify.delivery.failed", {
        "delivery_id": row["id"], "event_id": row["event_id"], "event_type": row["event_type"],
        "rule": row["rule"], "recipient": row["recipient"], "channel": row["channel"],
        "attempts": row.get("attempts") or 0, "reason": reason},
        correlation_id=row.get("correlation_id") or row["event_id"], tlp="AMBER"))


# --- sending -----------------------------------------------------------------------------------

class Senders:
    """What sends: the SMTP settings (or the .eml directory) and one HTTP session for robots.
    `mailer()` opens the mail connection of one send pass (closed with the pass)."""

    def __init__(self, cfg: NotifyConfig, mail_dir: Path) -> None:
        self.cfg = cfg
        self.mail_dir = mail_dir
        self.http = requests.Session()

    def mailer(self) -> mail.Mailer:
        return mail.Mailer(self.cfg.email, self.mail_dir)

    def send(self, row: Mapping[str, Any], mailer: mail.Mailer) -> robots.Failure | None:
        if row["channel"] == "email":
            return mailer.send(row["id"], mail.message(self.cfg.email, row["id"],
                                                       row["address"], row["subject"],
                                                       row["body"]))
        robot = self.cfg.robots.get(row["address"])
        if robot is None or not robot.url:
            return robots.Failure(f"robot {row['address']} is off", True)
        return robots.post(self.http, robot, row["subject"], row["body"])


Record = Callable[[dict[str, Any], "robots.Failure | None", datetime], None]


def send_due(uow: UnitOfWork, senders: Senders, now: datetime | None = None,
             record: Record | None = None,
             claim_gate: AbstractContextManager[Any] | None = None) -> int:
    """One pass: claim due deliveries, then send each and have its outcome committed before
    the next is sent (so a crash can repeat at most the one message in flight). `record` is
    the process's group commit (services/notify/outcomes.py: one transaction for the outcomes
    of every sender waiting at that moment); without it each outcome commits on its own. The
    number claimed. `claim_gate` bounds how many senders claim at once (each claim holds a
    database connection: sixteen senders must not take sixteen)."""
    cfg = senders.cfg
    started = now or utcnow()
    with claim_gate or nullcontext(), uow:
        rows = db.claim_due(uow.session, started,
                            started + timedelta(seconds=cfg.lease_seconds), cfg.batch)
        uow.commit()
    if not rows:
        return 0
    record = record or (lambda row, failure, at: _record_one(uow, cfg, row, failure, at))
    mailer = senders.mailer()
    try:
        for row in rows:
            failure = senders.send(row, mailer)
            record(row, failure, now or utcnow())
    finally:
        mailer.close()
    return len(rows)


def _record_one(uow: UnitOfWork, cfg: NotifyConfig, row: dict[str, Any],
                failure: robots.Failure | None, now: datetime) -> None:
    with uow:
        record_outcomes(uow, cfg, [(row, failure, now)])
        uow.commit()


_D = db.deliveries.c
_OUTCOME = (update(db.deliveries).where(_D.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), last_error=bindparam("b_error"),
                    sent_at=func.coalesce(bindparam("b_sent_at", type_=_D.sent_at.type),
                                          _D.sent_at),
                    next_attempt_at=func.coalesce(
                        bindparam("b_next", type_=_D.next_attempt_at.type),
                        _D.next_attempt_at)))


def record_outcomes(uow: UnitOfWork, cfg: NotifyConfig,
                    outcomes: Sequence[tuple[dict[str, Any], robots.Failure | None, datetime]]
                    ) -> None:
    """In `uow`'s transaction (committed without waiting for the disk): each try's outcome on
    its delivery, one row per try in the log, `notify.delivery.failed` for the dead."""
    db.commit_without_waiting_for_disk(uow.session)
    changes, tries = [], []
    for row, failure, now in outcomes:
        result = _outcome(row, failure, cfg, now)
        changes.append({"b_id": row["id"], "b_status": result.status,
                        "b_error": result.error,
                        "b_sent_at": now if result.status == "sent" else None,
                        "b_next": result.next_attempt_at})
        tries.append({"delivery_id": row["id"], "at": now, "error": result.error,
                      "outcome": "retry" if result.status == "pending" else result.status})
        if result.status == "dead":
            _dead(uow, row, result.error or "")
    uow.session.execute(_OUTCOME, changes)
    uow.session.execute(insert(db.attempts), tries)


def _outcome(row: dict[str, Any], failure: robots.Failure | None, cfg: NotifyConfig,
             now: datetime) -> domain.Outcome:
    retry = cfg.retry[row["channel"]]
    result = domain.after_attempt(row["attempts"], failure.error if failure else None,
                                  bool(failure and failure.permanent), retry.max_attempts,
                                  retry.base_seconds, retry.cap_seconds, now)
    if result.status == "sent":
        metrics.sent.labels(row["channel"]).inc()
        metrics.latency.labels(row["channel"]).observe(
            max(0.0, (now - aware(row["created_at"])).total_seconds()))
    elif result.next_attempt_at is not None:
        metrics.retried.labels(row["channel"]).inc()
    return result


# --- the inbox, preferences and the log ----------------------------------------------------------

def inbox(uow: UnitOfWork, name: str, query: Mapping[str, Any]) -> dict[str, Any]:
    with uow:
        messages = db.inbox(uow.session, name, query["unread"], query["limit"], query["before"])
        unread = db.unread_count(uow.session, name)
    return {"unread": unread, "messages": [jsonable(m) for m in messages]}


def mark_read(uow: UnitOfWork, name: str, body: Mapping[str, Any],
              now: datetime | None = None) -> dict[str, Any]:
    """Mark the listed messages (or all, with `all`) of the caller's own inbox read."""
    ids = None if body.get("all") else list(body.get("ids") or [])
    with uow:
        marked = db.mark_read(uow.session, name, ids, now or utcnow()) if ids != [] else 0
        uow.commit()
        unread = db.unread_count(uow.session, name)
    return {"marked": marked, "unread": unread}


def get_preferences(uow: UnitOfWork, name: str) -> dict[str, Any]:
    with uow:
        row = db.preferences_of(uow.session, [name]).get(name)
    if row is None:
        return {"name": name, "channels": list(domain.PERSONAL_CHANNELS), "quiet_hours": None}
    quiet = f"{row['quiet_start']}-{row['quiet_end']}" if row["quiet_start"] else None
    return {"name": name, "channels": list(row["channels"]), "quiet_hours": quiet}


def set_preferences(uow: UnitOfWork, name: str, body: Mapping[str, Any],
                    now: datetime | None = None) -> dict[str, Any]:
    """Channels the person accepts and quiet hours ("22:00-07:30"; urgent messages ignore both)."""
    start, end = (body["quiet_hours"].split("-") if body.get("quiet_hours") else (None, None))
    values = {"channels": sorted(set(body["channels"])), "quiet_start": start,
              "quiet_end": end, "updated_at": now or utcnow()}
    with uow:
        done = uow.session.execute(update(db.preferences).where(db.preferences.c.name == name)
                                   .values(**values)).rowcount
        if not done:
            uow.session.execute(insert(db.preferences).values(name=name, **values))
        uow.commit()
    return get_preferences(uow, name)


def delivery_log(uow: UnitOfWork, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Deliveries with their tries, oldest first (`civicpulse notify log`, GET /deliveries)."""
    with uow:
        rows = db.log(uow.session, dict(filters), filters.get("limit") or 200)
        tries = db.attempts_of(uow.session, [r["id"] for r in rows])
    return [{**jsonable({k: v for k, v in r.items() if k != "body"}),
             "tries": [jsonable({k: v for k, v in t.items() if k in ("at", "outcome", "error")})
                       for t in tries[r["id"]]]} for r in rows]


def summary(uow: UnitOfWork) -> dict[str, Any]:
    """Deliveries by channel and status (the demo's closing line, the pending gauge)."""
    with uow:
        counts = db.counts(uow.session)
    by_channel = {c: sum(n for (ch, s), n in counts.items() if ch == c and s == "sent")
                  for c in domain.CHANNELS}
    return {"sent": sum(by_channel.values()), "by_channel": by_channel,
            "pending": sum(n for (_, s), n in counts.items() if s in ("pending", "sending")),
            "dead": sum(n for (_, s), n in counts.items() if s == "dead")}


# --- the daily digest ----------------------------------------------------------------------------

def daily_digest(uow: UnitOfWork, cfg: NotifyConfig, people: People,
                 incidents: Callable[[], Sequence[Mapping[str, Any]] | None],
                 now: datetime | None = None) -> int:
    """Once a day at `digest.at` (local time): to every person with an e-mail address who
    accepts e-mail, the open opinion incidents (`incidents()` None: sentiment did not answer)
    and their own unread notifications. Sent in the hour after `digest.at` (a process started
    later that day sends none); the day's row in `digests` makes it once, whatever the number
    of processes or restarts."""
    now = now or utcnow()
    local = now.astimezone(cfg.timezone)
    if cfg.digest_at is None or not domain.in_digest_window(local, cfg.digest_at):
        return 0
    day = local.date().isoformat()
    with uow:
        if db.digest_done(uow.session, day):
            return 0
    staff, known = list(people()), incidents()
    opinion = [i for i in known or [] if i.get("status") != "closed"]
    with uow:
        if not db.claim_digest(uow.session, day, now):
            return 0
        prefs = {n: _preference(p) for n, p in
                 db.preferences_of(uow.session, [p.name for p in staff]).items()}
        src = Source(f"digest-{day}", "notify.digest", f"digest-{day}", "daily_digest")
        sent = 0
        for person in staff:
            if not person.email or "email" not in prefs.get(person.name, Preference()).channels:
                continue
            unread = db.inbox(uow.session, person.name, True, 10, None)
            msg = render("daily_digest", src.event_type, {
                "day": day, "name": person.name, "incidents": opinion[:10],
                "opinion_unavailable": known is None,
                "open_incidents": len(opinion), "unread": unread,
                "unread_count": db.unread_count(uow.session, person.name)},
                cfg.console_url + "/", cfg.timezone)
            planned = domain.Planned(f"staff:{person.name}", "email", person.email, now)
            _insert(uow, [_row(src, planned, domain.dedupe_key(
                src.event_id, planned.recipient, "email"), False, msg, now)])
            sent += 1
        db.count_digest(uow.session, day, sent)
        uow.commit()
    return sent
