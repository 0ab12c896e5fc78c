"""Webhook delivery's use cases on the real PostgreSQL (the HTTP side is a scripted poster here;
the end-to-end test posts over real HTTPS): a delivery is recorded with the share (and only for
agencies with a webhook; RED never), the sender posts in order, backs the agency off after a
failure, dead-letters after the bound with the reason, and two senders never hold one agency."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, utcnow
from civicpulse.settings import WebhookSettings
from services.liaison import config, db, incidents, partner_webhooks, webhook_store
from services.liaison.webhook_transport import Answer
from tests.conftest import make_uow

pytestmark = pytest.mark.integration
UowFactory = Callable[[], UnitOfWork]
CFG = WebhookSettings(ca_bundle="", dead_after_seconds=600.0, backoff_base_seconds=10.0,
                      backoff_cap_seconds=60.0, timeout_seconds=5.0, lease_seconds=30.0,
                      poll_seconds=0.1, batch=50)


class Scripted:
    """Answers in turn from `script` (then accepts); records what it was given."""

    def __init__(self, *script: Answer) -> None:
        self.script = list(script)
        self.posts: list[dict[str, Any]] = []

    def post(self, url: str, secret: str, agency: str, event_id: str, event_type: str,
             body: bytes) -> Answer:
        self.posts.append({"url": url, "secret": secret, "agency": agency, "id": event_id,
                           "body": json.loads(body)})
        return self.script.pop(0) if self.script else Answer(200, None, 1)


REFUSED = Answer(503, "HTTP 503: busy", 2)


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def uow(pg_database: str) -> UowFactory:
    return make_uow("liaison", pg_database)


def webhook(uow: UowFactory, agency: str, url: str = "https://hooks.example.gov.cn/in") -> str:
    with uow() as u:
        done = partner_webhooks.configure(u.session, agency, url, utcnow())
        u.commit()
    assert done.secret
    return done.secret


def open_ticket(uow: UowFactory, incident: str, level: str = "IV") -> str:
    event = new_event("sentiment.incident.detected", {
        "incident_id": incident, "topic": "deputies", "level": level,
        "detected_at": "2025-03-01T09:00:00+00:00", "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=incident, tlp="AMBER")
    effect = incidents.open_ticket(uow(), event, config.load())
    assert effect is not None
    return effect.ticket_id


def deliveries(uow: UowFactory) -> list[dict[str, Any]]:
    with uow() as u:
        return [dict(r) for r in u.session.execute(select(db.webhook_deliveries).order_by(
            db.webhook_deliveries.c.created_at, db.webhook_deliveries.c.id)).mappings()]


def test_a_share_records_a_delivery_for_agencies_with_a_webhook_only(uow: UowFactory) -> None:
    secret = webhook(uow, "cac")
    open_ticket(uow, "inc-wh-1", level="III")  # shared with propaganda and cac
    rows = deliveries(uow)
    assert [(r["agency"], r["event_type"], r["status"]) for r in rows] == [
        ("cac", "liaison.ticket.opened", "pending")]
    with uow() as u:  # the same share decision: one share row per delivery
        shares = u.session.execute(select(db.shares.c.agency, db.shares.c.event_id)).all()
    assert ("cac", rows[0]["event_id"]) in shares and len(shares) == 2

    poster = Scripted()
    assert partner_webhooks.send_pass(uow(), poster, CFG, "s1") == 1
    (post,) = poster.posts
    with uow() as u:
        body = u.session.execute(select(db.shared_events.c.body).where(
            db.shared_events.c.event_id == rows[0]["event_id"])).scalar_one()
    assert post["body"] == json.loads(body) and post["id"] == rows[0]["event_id"]
    assert post["secret"] == secret and post["agency"] == "cac"
    assert deliveries(uow)[0]["status"] == "delivered"
    assert partner_webhooks.send_pass(uow(), poster, CFG, "s1") == 0  # nothing left


def test_failures_back_the_agency_off_then_deliver_in_order(uow: UowFactory) -> None:
    webhook(uow, "cac")
    for n in range(3):
        open_ticket(uow, f"inc-wh-order-{n}")
    clock, poster = Clock(), Scripted(REFUSED, REFUSED)
    assert partner_webhooks.send_pass(uow(), poster, CFG, "s1", clock) == 1  # refused: stop
    assert partner_webhooks.send_pass(uow(), poster, CFG, "s1", clock) == 0  # backing off
    clock.advance(10)
    assert partner_webhooks.send_pass(uow(), poster, CFG, "s1", clock) == 1  # refused again
    clock.advance(10)
    assert partner_webhooks.send_pass(uow(), poster, CFG, "s1", clock) == 0  # 20 s now
    clock.advance(10)
    assert partner_webhooks.send_pass(uow(), poster, CFG, "s1", clock) == 3
    ids = [r["event_id"] for r in deliveries(uow)]
    assert [p["id"] for p in poster.posts] == [ids[0], ids[0], *ids]
    log = partner_webhooks.delivery_log(uow(), "cac")
    first = next(d for d in log["deliveries"] if d["event_id"] == ids[0])
    assert [a["outcome"] for a in first["attempt_log"]] == ["failed", "failed", "delivered"]
    assert [a["http_status"] for a in first["attempt_log"]] == [503, 503, 200]
    assert first["status"] == "delivered" and first["attempts"] == 3
    assert log["webhook"]["failures"] == 0 and "secret" not in log["webhook"]
    assert partner_webhooks.delivery_log(uow(), "govpress")["deliveries"] == []


def test_a_delivery_failing_past_the_bound_is_dead_lettered_with_the_reason(
        uow: UowFactory) -> None:
    webhook(uow, "cac")
    open_ticket(uow, "inc-wh-dead-1")
    open_ticket(uow, "inc-wh-dead-2")
    clock, poster = Clock(), Scripted(*[REFUSED] * 100)
    for _ in range(30):
        clock.advance(60)
        partner_webhooks.send_pass(uow(), poster, CFG, "s1", clock)
    rows = deliveries(uow)
    assert [r["status"] for r in rows] == ["dead", "dead"]
    assert "gave up after" in rows[0]["last_error"] and "HTTP 503" in rows[0]["last_error"]
    assert "expired unsent" in rows[1]["last_error"]  # dead-lettered with the first
    log = partner_webhooks.delivery_log(uow(), "cac", status="dead")
    assert log["deliveries"][-1]["attempt_log"][-1]["outcome"] == "dead"
    assert partner_webhooks.send_pass(uow(), poster, CFG, "s1", clock) == 0

    with uow() as u:  # the agency fixed its endpoint: the office sends them again
        assert partner_webhooks.redeliver_dead(u.session, "cac", clock()) == 2
        u.commit()
    fixed = Scripted()
    assert partner_webhooks.send_pass(uow(), fixed, CFG, "s1", clock) == 2
    assert [p["id"] for p in fixed.posts] == [r["event_id"] for r in rows]
    assert [r["status"] for r in deliveries(uow)] == ["delivered", "delivered"]


def test_two_senders_never_hold_the_same_agency(uow: UowFactory) -> None:
    webhook(uow, "cac")
    webhook(uow, "propaganda")
    open_ticket(uow, "inc-wh-lease", level="III")  # one delivery each
    now = utcnow()
    a, b, c = uow(), uow(), uow()
    with a, b:
        first = webhook_store.claim_agency(a.session, now, now + timedelta(seconds=30), "a")
        second = webhook_store.claim_agency(b.session, now, now + timedelta(seconds=30), "b")
        assert first and second and first["agency"] != second["agency"]  # row lock skipped
        a.commit()
        b.commit()
    with c:
        assert webhook_store.claim_agency(c.session, now, now, "c") is None  # both leased
    later = now + timedelta(seconds=31)  # a sender died: its lease runs out
    with c:
        assert webhook_store.claim_agency(c.session, later, later, "c") is not None


def test_removing_the_webhook_dead_letters_what_is_pending(uow: UowFactory) -> None:
    webhook(uow, "cac")
    open_ticket(uow, "inc-wh-remove")
    with uow() as u:
        assert partner_webhooks.remove(u.session, "cac", utcnow()) == 1
        u.commit()
    (row,) = deliveries(uow)
    assert row["status"] == "dead" and row["last_error"] == "webhook removed by the office"
    with uow() as u:
        assert partner_webhooks.remove_if_any(u.session, "cac", utcnow()) is False
    open_ticket(uow, "inc-wh-remove-2")
    assert len(deliveries(uow)) == 1  # no endpoint, no new delivery


def test_url_must_be_https_and_secret_rotates(uow: UowFactory) -> None:
    with uow() as u:
        for bad in ("http://hooks.example.gov.cn/in", "https://u:p@hooks.example.gov.cn/",
                    "ftp://x/", "https:///nohost"):
            with pytest.raises(partner_webhooks.InvalidWebhookUrl):
                partner_webhooks.configure(u.session, "cac", bad, utcnow())
    first = webhook(uow, "cac")
    with uow() as u:
        moved = partner_webhooks.configure(u.session, "cac", "https://new.example/x", utcnow())
        rotated = partner_webhooks.configure(u.session, "cac", None, utcnow(),
                                             rotate_secret=True)
        u.commit()
    assert moved.secret is None and rotated.secret and rotated.secret != first
    assert rotated.url == "https://new.example/x"


class Crash(Exception):
    """The sender process dies while a POST is in flight."""


def test_a_sender_dying_mid_post_repeats_only_the_delivery_in_flight(uow: UowFactory) -> None:
    webhook(uow, "cac")
    for n in range(3):
        open_ticket(uow, f"inc-wh-crash-{n}")
    ids = [r["event_id"] for r in deliveries(uow)]
    clock = Clock()

    class DiesOnSecond(Scripted):
        def post(self, *args: Any) -> Answer:
            answer = super().post(*args)
            if len(self.posts) == 2:
                raise Crash  # the receiver got it; the outcome is never recorded
            return answer

    dying = DiesOnSecond()
    with pytest.raises(Crash):
        partner_webhooks.send_pass(uow(), dying, CFG, "dies", clock)
    other = Scripted()
    assert partner_webhooks.send_pass(uow(), other, CFG, "other", clock) == 0  # still leased
    clock.advance(CFG.lease_seconds + 1)  # the lease runs out
    assert partner_webhooks.send_pass(uow(), other, CFG, "other", clock) == 2
    assert [p["id"] for p in dying.posts] == ids[:2]
    assert [p["id"] for p in other.posts] == ids[1:]  # only the one in flight is repeated
    assert [r["status"] for r in deliveries(uow)] == ["delivered"] * 3
