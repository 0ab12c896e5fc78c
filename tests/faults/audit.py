"""What the fault suite checks once the faults are over and the suite has settled.

Everything is read from the services' own databases and from what the partner clients
yielded: `lost` counts what should exist and does not, `duplicated` what exists more often
than once. Each finding is named so a failure says exactly what broke.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.faults.harness import AGENCIES, Databases, PartnerListeners, say, with_retry


@dataclass
class Findings:
    lost: Counter[str] = field(default_factory=Counter)
    duplicated: Counter[str] = field(default_factory=Counter)
    figures: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> list[str]:
        out = [f"faults: lost {k}: {v}" for k, v in self.lost.items() if v]
        out += [f"faults: duplicated {k}: {v}" for k, v in self.duplicated.items() if v]
        return out


def settled(dbs: Databases, partners: PartnerListeners, tags: list[str]) -> str | None:
    """None when the suite has finished the replay's work, else what it still waits for."""
    n = len(tags)
    tickets = dbs.scalar("liaison", "SELECT count(DISTINCT incident_id) FROM tickets")
    if tickets < n:
        return f"tickets {tickets}/{n}"
    published = dbs.scalar("news", "SELECT count(DISTINCT id) FROM items "
                                   "WHERE kind = 'statement' AND status = 'published'")
    if published < n:
        return f"statements published {published}/{n}"
    unsent = sum(dbs.unsent().values())
    if unsent:
        return f"outbox rows unsent {unsent}"
    due = dbs.scalar("liaison", "SELECT count(*) FROM deadlines WHERE fired_at IS NULL "
                                "AND due_at < now() - interval '3 seconds'")
    if due:
        return f"deadlines due and not fired {due}"
    missing = sum(len(m) for m in missing_shares(dbs, partners).values())
    if missing:
        return f"shares not yet at partner queues {missing}"
    return None


def missing_shares(dbs: Databases, partners: PartnerListeners) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for agency in AGENCIES:
        shared = {r[0] for r in dbs.rows("liaison", "SELECT event_id FROM shares "
                                                    "WHERE agency = :a", a=agency)}
        got = {e.get("id") for e in partners.events(agency)}
        out[agency] = shared - got
    return out


def wait_settled(dbs: Databases, partners: PartnerListeners, tags: list[str],
                 timeout: float) -> float | None:
    """Seconds until the suite settled, or None after `timeout` (the audit then says what
    is missing)."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        try:
            waiting = settled(dbs, partners, tags)
        except Exception as exc:  # noqa: BLE001 - a database fault may still be in the way
            waiting = f"audit query failed: {exc}"
        if waiting is None:
            return time.monotonic() - t0
        if waiting != last:
            say(f"faults: settling: {waiting}")
            last = waiting
        time.sleep(1.0)
    say(f"faults: NOT settled after {timeout:.0f}s: {last}")
    return None


def audit(dbs: Databases, partners: PartnerListeners, tags: list[str]) -> Findings:
    f = Findings()
    with_retry(lambda: _incidents(dbs, tags, f))
    with_retry(lambda: _tickets(dbs, f))
    with_retry(lambda: _statements(dbs, f))
    with_retry(lambda: _outboxes(dbs, f))
    with_retry(lambda: _effects_once(dbs, f))
    _partners(dbs, partners, f)
    return f


def _incidents(dbs: Databases, tags: list[str], f: Findings) -> None:
    rows = dbs.rows("sentiment", "SELECT topic, count(*) FROM incidents GROUP BY topic")
    per_topic = dict(rows)
    f.lost["incidents"] = sum(1 for t in tags if f"#{t}" not in per_topic)
    f.duplicated["incidents per topic"] = sum(c - 1 for c in per_topic.values() if c > 1)
    f.duplicated["incidents outside the replay"] = sum(
        c for t, c in per_topic.items() if t.lstrip("#") not in set(tags))
    f.figures["incidents"] = sum(per_topic.values())


def _tickets(dbs: Databases, f: Findings) -> None:
    incidents = {r[0] for r in dbs.rows("sentiment", "SELECT id FROM incidents")}
    rows = dbs.rows("liaison", "SELECT incident_id, count(*) FROM tickets GROUP BY incident_id")
    per_incident = dict(rows)
    f.figures["tickets"] = sum(per_incident.values())
    f.lost["tickets"] = len(incidents - set(per_incident))
    f.duplicated["tickets per incident"] = sum(c - 1 for c in per_incident.values() if c > 1)


def _statements(dbs: Databases, f: Findings) -> None:
    tickets = dbs.scalar("liaison", "SELECT count(*) FROM tickets")
    items = dict(dbs.rows("news", "SELECT correlation_id, count(*) FROM items "
                                  "WHERE kind = 'statement' GROUP BY correlation_id"))
    f.duplicated["statements per incident"] = sum(c - 1 for c in items.values() if c > 1)
    published = dbs.scalar("news", "SELECT count(*) FROM items WHERE kind = 'statement' "
                                   "AND status = 'published'")
    f.lost["statements published"] = max(0, tickets - published)
    f.figures["published"] = published
    events = dbs.rows("news", "SELECT body FROM outbox WHERE event_type = 'news.item.published'")
    per_item = Counter(json.loads(b)["payload"]["item_id"] for (b,) in events)
    f.duplicated["news.item.published per item"] = sum(c - 1 for c in per_item.values() if c > 1)
    cases = dict(dbs.rows("review", "SELECT item_id, count(*) FROM cases GROUP BY item_id"))
    f.duplicated["review cases per statement"] = sum(c - 1 for c in cases.values() if c > 1)


def _outboxes(dbs: Databases, f: Findings) -> None:
    for svc, n in dbs.unsent().items():
        f.lost[f"{svc} outbox rows unsent"] = n


def _effects_once(dbs: Databases, f: Findings) -> None:
    f.duplicated["liaison timeline entries per event"] = dbs.scalar(
        "liaison", "SELECT count(*) - count(DISTINCT (event_id, kind, text)) FROM timeline "
                   "WHERE event_id IS NOT NULL")
    f.duplicated["deadline firings"] = dbs.scalar(
        "liaison", "SELECT count(*) - count(DISTINCT (body::json->'payload'->>'ticket_id', "
                   "body::json->'payload'->>'deadline', body::json->'payload'->>'step')) "
                   "FROM outbox WHERE event_type = 'liaison.ticket.overdue' "
                   "AND exchange <> 'civicpulse.partners'")
    fired = dbs.scalar("liaison", "SELECT count(*) FROM deadlines WHERE outcome = 'escalated'")
    overdue = dbs.scalar("liaison", "SELECT count(*) FROM outbox "
                                    "WHERE event_type = 'liaison.ticket.overdue' "
                                    "AND exchange <> 'civicpulse.partners'")
    f.lost["overdue events of escalated deadlines"] = max(0, fired - overdue)
    f.figures["deadlines fired"] = dbs.scalar(
        "liaison", "SELECT count(*) FROM deadlines WHERE fired_at IS NOT NULL")
    f.figures["inbox rows"] = sum(dbs.scalar(s, "SELECT count(*) FROM inbox")
                                  for s in dbs.urls)


def _partners(dbs: Databases, partners: PartnerListeners, f: Findings) -> None:
    missing = with_retry(lambda: missing_shares(dbs, partners))
    shares = deliveries = dropped = 0
    for agency in AGENCIES:
        f.lost[f"shares missing at partner.{agency}"] = len(missing[agency])
        ids = Counter(e.get("id") for e in partners.events(agency))
        f.duplicated[f"events yielded twice by the partner client ({agency})"] = sum(
            c - 1 for c in ids.values() if c > 1)
        stats = partners.stats(agency)
        shares += len(ids)
        deliveries += stats["deliveries"]
        dropped += stats["duplicates"]
    f.figures.update({"partner events": shares, "partner deliveries": deliveries,
                      "partner redeliveries dropped": dropped})
