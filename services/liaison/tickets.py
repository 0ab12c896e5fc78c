"""The ticket: its state changes, its timeline, its events and how they are shared.

Every use case (incidents, statement, ticket_work, meetings, deadline_timers, ...) changes a
ticket through these functions, inside the caller's unit of work: `move` (compare-and-set the
status through the state machine), `note` (a timeline entry), `event` and `announce` (the
ticket's events), `share`, `deliver`, `join` and `backfill` (what partner agencies receive).
Rows are reached through `db`'s repositories; the words through `messages`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from civicpulse import contracts
from civicpulse.db import UnitOfWork
from civicpulse.envelope import Envelope, new_event, parse
from civicpulse.errors import ContractViolation, TransientError
from civicpulse.outbox import PARTNER_EXCHANGE
from services.liaison import db, domain, messages, metrics, webhook_store
from services.liaison.config import LiaisonConfig


class TicketNotFound(LookupError):
    pass


class TicketNotOpenYet(TransientError):
    """An incident event overtook the detection that opens its ticket: retry it later.

    Every detected incident gets a ticket, so an escalation or subsidence without one arrived
    out of order (each event type has its own queue); the platform retries it with backoff.
    """


class UnknownAgency(ValueError):
    pass


@dataclass(frozen=True)
class Effect:
    """What a use case did, for its caller and the metrics (counted after commit)."""

    ticket_id: str
    status: str
    shared: tuple[str, ...] = ()
    opened_level: str | None = None

    def count(self) -> Effect:
        if self.opened_level:
            metrics.TICKETS_OPENED.labels(self.opened_level).inc()
        for agency in self.shared:
            metrics.SHARES.labels(agency).inc()
        return self


def repos(uow: UnitOfWork) -> db.Repositories:
    """The repositories on the unit of work's session (inside `with uow`)."""
    return db.repositories(uow.session)


# --- finding a ticket -----------------------------------------------------------------------

def get(uow: UnitOfWork, ticket_id: str) -> domain.Ticket:
    """The ticket, or TicketNotFound."""
    ticket = repos(uow).tickets.get(ticket_id)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


def of_event(uow: UnitOfWork, event: Envelope) -> domain.Ticket | None:
    """The ticket a news or review event is about: the one its payload's `ticket_id` names
    (news.item.* and review.* carry it explicitly); an event without one, from before the key
    was added, or naming no ticket liaison knows, is matched by its correlation id (the
    incident id liaison gave the statement request), as it always was."""
    r = repos(uow)
    ticket_id = event.payload.get("ticket_id")
    found = r.tickets.get(ticket_id) if ticket_id else None
    return found or r.tickets.by_incident(event.correlation_id)


def of_incident(uow: UnitOfWork, event: Envelope) -> domain.Ticket:
    """The ticket of a sentiment incident event (its payload's `incident_id`), or
    TicketNotOpenYet: the detection that opens it has not been handled yet."""
    incident_id = event.payload["incident_id"]
    ticket = repos(uow).tickets.by_incident(incident_id)
    if ticket is None:
        raise TicketNotOpenYet(f"no ticket yet for incident {incident_id}")
    return ticket


# --- changing it ----------------------------------------------------------------------------

def move(uow: UnitOfWork, ticket: domain.Ticket, target: str, now: datetime) -> domain.Ticket:
    """The ticket in `target` status; InvalidTransition if not allowed or changed meanwhile."""
    new = domain.transition(ticket.status, target)
    if not repos(uow).tickets.compare_and_set_status(ticket, new, now):
        raise domain.InvalidTransition(ticket.status, target)
    return ticket.with_status(new)


def note(uow: UnitOfWork, ticket_id: str, at: datetime, kind: str, text: str,
         event_id: str | None = None, pinned: bool = False, author: str | None = None) -> None:
    """An entry on the ticket's timeline."""
    repos(uow).timeline.add(ticket_id, at, kind, text, event_id, pinned, author)


def record_fact(uow: UnitOfWork, ticket_id: str, fact: str, at: datetime) -> None:
    """The first time a plan deadline's fact happened (acknowledged_at, ...); later calls keep
    the first."""
    repos(uow).tickets.set_fact(ticket_id, fact, at)


def snapshot(uow: UnitOfWork, ticket_id: str, event: Envelope) -> None:
    """Keep the opinion figures a sentiment event carries (for the review's curve)."""
    p = event.payload
    ratio, volume = p.get("negative_ratio"), p.get("volume")
    repos(uow).tickets.add_snapshot(
        ticket_id, event.occurred_at, event.type, p.get("level"),
        float(ratio) if ratio is not None else None,
        int(volume) if volume is not None else None, event.id)


def add_participants(uow: UnitOfWork, ticket_id: str,
                     drafts: Sequence[domain.ParticipantDraft], now: datetime) -> None:
    for p in drafts:
        repos(uow).tickets.add_participant(ticket_id, p.party, p.kind, p.role, now)


def add_tasks(uow: UnitOfWork, ticket_id: str, drafts: Sequence[domain.TaskDraft],
              now: datetime) -> None:
    for t in drafts:
        repos(uow).tasks.add(ticket_id, t.code, t.title, t.assignee, t.due_at, now)


# --- its events -----------------------------------------------------------------------------

def event(type_: str, ticket: domain.Ticket, status: str, caused_by: Envelope | None,
          tlp: str = "AMBER", **extra: Any) -> Envelope:
    """A `liaison.ticket.*` event: its payload names the ticket and the incident."""
    return new_event(type_, {"ticket_id": ticket.id, "incident_id": ticket.incident_id,
                             "status": status, **extra},
                     correlation_id=ticket.incident_id, caused_by=caused_by, tlp=tlp)


def publish_and_share(uow: UnitOfWork, ticket_id: str, evt: Envelope, cfg: LiaisonConfig,
                      now: datetime, agencies: Sequence[str] | None = None
                      ) -> tuple[str, ...]:
    """Publish `evt` (outbox) and share it with `agencies` (default: the ticket's)."""
    uow.publish(evt)
    if agencies is None:
        agencies = repos(uow).tickets.agencies(ticket_id)
    return share(uow, ticket_id, evt, agencies, cfg, now)


def announce(uow: UnitOfWork, ticket: domain.Ticket, status: str, cause: Envelope | None,
             cfg: LiaisonConfig, now: datetime, **extra: Any) -> tuple[str, ...]:
    """Publish the status's event, if it has one, and share it with the ticket's agencies."""
    type_ = domain.STATUS_EVENTS.get(status)
    if type_ is None:
        return ()
    return publish_and_share(uow, ticket.id, event(type_, ticket, status, cause, **extra),
                             cfg, now)


# --- sharing with partner agencies ----------------------------------------------------------

def agency_name(cfg: LiaisonConfig, code: str) -> str:
    return a.name if (a := cfg.agency(code)) else code


def agency_names(cfg: LiaisonConfig, codes: Sequence[str]) -> list[str]:
    return [agency_name(cfg, c) for c in codes]


def resolve_agencies(cfg: LiaisonConfig, names: Sequence[str]) -> tuple[str, ...]:
    """Agency codes and sharing groups (`core` or `group:core`) → active agency codes, in
    order, each once; UnknownAgency naming every name that is neither."""
    codes: list[str] = []
    unknown: list[str] = []
    for name in names:
        try:
            codes.extend(cfg.resolve(name))
        except domain.UnknownGroup:
            unknown.append(name)
    if unknown:
        raise UnknownAgency(", ".join(unknown))
    return tuple(dict.fromkeys(codes))


def share(uow: UnitOfWork, ticket_id: str, evt: Envelope, ticket_agencies: Sequence[str],
          cfg: LiaisonConfig, now: datetime) -> tuple[str, ...]:
    """Share `evt` with the partner agencies its TLP allows; record each share."""
    targets = domain.share_targets(evt.tlp, ticket_agencies, cfg.directory)
    if targets and not contracts.shareable(evt.type, evt.version, evt.tlp):
        raise ContractViolation(f"{evt.type} v{evt.version} at TLP:{evt.tlp} is not in "
                                "the partner catalogue (declare partner_tlp on its contract)")
    repos(uow).shares.keep_event(ticket_id, evt.id, evt.type, evt.tlp, evt.to_json(), now)
    if not targets:
        note(uow, ticket_id, now, "withheld", messages.withheld(evt.type, evt.tlp), evt.id)
    for code in targets:
        deliver(uow, ticket_id, evt, code, cfg, now)
    return targets


def deliver(uow: UnitOfWork, ticket_id: str, evt: Envelope, code: str, cfg: LiaisonConfig,
            now: datetime, backfill: bool = False) -> None:
    """One share: the partner queue gets the event (outbox), the share log and timeline say so."""
    uow.publish(evt, exchange=PARTNER_EXCHANGE, routing_key=code)
    repos(uow).shares.add(ticket_id, code, evt.id, evt.type, evt.tlp, now)
    # and its webhook, if the agency has one: same decision, same commit
    webhook_store.enqueue(uow.session, code, evt.id, evt.type, evt.tlp, now)
    note(uow, ticket_id, now, "shared",
         messages.shared(evt.type, agency_name(cfg, code), code, evt.tlp, backfill), evt.id)


def join(uow: UnitOfWork, ticket_id: str, codes: Sequence[str], by: str, cfg: LiaisonConfig,
         now: datetime, via: str = "") -> tuple[str, ...]:
    """Put the agencies not yet on the ticket on it, each with its backfill; returns the
    agency of each share sent."""
    have = repos(uow).tickets.agencies(ticket_id)
    added = [c for c in codes if c not in have]
    for code in added:
        repos(uow).tickets.add_participant(ticket_id, code, "agency", "partner_observer", now)
        note(uow, ticket_id, now, "agency.added",
             messages.agency_added(agency_name(cfg, code), code, by, via), author=by)
    return tuple(a for code in added for a in backfill(uow, ticket_id, code, cfg, now))


def backfill(uow: UnitOfWork, ticket_id: str, agency: str, cfg: LiaisonConfig,
             now: datetime) -> tuple[str, ...]:
    """Deliver, in order, every earlier share of the ticket the agency is now entitled to."""
    r = repos(uow)
    have = r.shares.event_ids_sent_to(ticket_id, agency)
    agencies = r.tickets.agencies(ticket_id)
    sent = []
    for kept in r.shares.events(ticket_id):
        if kept.event_id in have or agency not in domain.share_targets(
                kept.tlp, agencies, cfg.directory):
            continue
        evt = parse(json.loads(kept.body))
        if not domain.in_audience(evt.type, evt.payload, agency):
            continue  # e.g. the notice of a meeting the agency was not invited to
        deliver(uow, ticket_id, evt, agency, cfg, now, backfill=True)
        sent.append(agency)
    return tuple(sent)


def on_ticket(uow: UnitOfWork, ticket_id: str, agency: str) -> bool:
    """Is the agency on the ticket (the AMBER audience)?"""
    return agency in repos(uow).tickets.agencies(ticket_id)


# --- metrics --------------------------------------------------------------------------------

def observe_resolved(ticket: domain.Ticket, now: datetime) -> None:
    metrics.TIME_TO_RESOLVE.labels(ticket.level).observe(
        (now - ticket.opened_at).total_seconds())


def observe_acknowledged(ticket: domain.Ticket, now: datetime) -> None:
    metrics.TIME_TO_ACKNOWLEDGE.labels(ticket.level).observe(
        (now - ticket.opened_at).total_seconds())
