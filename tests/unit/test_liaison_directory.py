"""The agency directory table and sharing groups on tickets, on a migrated SQLite database:
seeding is an idempotent upsert; a group added to a ticket backfills each member once; the
directory over HTTP (nameko's worker_factory)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event
from services.liaison import (
    agency_directory,
    config,
    db,
    incidents,
    meetings,
    ticket_views,
    ticket_work,
)
from services.liaison.config import LiaisonConfig
from services.liaison.service import LiaisonService

UowFactory = Callable[[], UnitOfWork]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def cfg() -> LiaisonConfig:
    return config.load()


@pytest.fixture
def uow(uow_factory: Callable[[str], UowFactory]) -> UowFactory:
    return uow_factory("liaison")


def table(uow: UowFactory) -> dict[str, dict[str, Any]]:
    with uow() as u:
        return {r["code"]: dict(r) for r in u.session.execute(select(db.agencies)).mappings()}


# --- seeding ------------------------------------------------------------------------------------

def test_seeding_twice_changes_nothing(uow: UowFactory, cfg: LiaisonConfig) -> None:
    first = agency_directory.seed_with(uow(), cfg, T0)
    assert set(first.inserted) == set(cfg.directory) and not first.updated
    before = table(uow)
    again = agency_directory.seed_with(uow(), cfg, T1)
    assert again == agency_directory.SeedResult()
    assert table(uow) == before  # not even updated_at moved
    cac = before["cac"]
    assert (cac["name"], cac["kind"], cac["active"]) == ("市委网信办", "cyberspace", True)
    assert cac["contacts"][0]["desk"].startswith("网络舆情处值班室")


def test_seeding_updates_changed_agencies_and_deactivates_dropped_ones(
        uow: UowFactory, cfg: LiaisonConfig) -> None:
    agency_directory.seed_with(uow(), cfg, T0)
    renamed = tuple(dataclasses.replace(a, name="网信办（新）") if a.code == "cac" else a
                    for a in cfg.agencies if a.code != "govpress")
    result = agency_directory.seed_with(uow(), dataclasses.replace(cfg, agencies=renamed), T1)
    assert result == agency_directory.SeedResult(updated=("cac",), deactivated=("govpress",))
    rows = table(uow)
    assert rows["cac"]["name"] == "网信办（新）"
    assert rows["govpress"]["active"] is False  # kept: tickets and shares still name it
    assert rows["media"]["updated_at"].replace(tzinfo=UTC) == T0
    assert agency_directory.seed_with(uow(), dataclasses.replace(cfg, agencies=renamed), T1
                                      ) == agency_directory.SeedResult()
    back = agency_directory.seed_with(uow(), cfg, T1)  # back in the YAML: active again
    assert set(back.updated) == {"cac", "govpress"}
    assert table(uow)["govpress"]["active"] is True


# --- groups on tickets --------------------------------------------------------------------------

def open_iv(uow: UowFactory, cfg: LiaisonConfig) -> str:
    event = new_event("sentiment.incident.detected", {
        "incident_id": "inc-grp", "topic": "budget", "level": "IV",
        "detected_at": "2025-03-01T09:00:00+00:00", "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id="inc-grp", tlp="AMBER")
    effect = incidents.open_ticket(uow(), event, cfg)
    assert effect is not None
    return effect.ticket_id


def shares_of(uow: UowFactory, tid: str) -> list[tuple[str, str]]:
    with uow() as u:
        return [(r["agency"], r["event_type"]) for r in u.session.execute(
            select(db.shares).where(db.shares.c.ticket_id == tid).order_by(db.shares.c.id)
        ).mappings()]


def test_adding_a_group_backfills_each_new_member_once(uow: UowFactory, cfg: LiaisonConfig
                                                       ) -> None:
    tid = open_iv(uow, cfg)  # level IV: cac only, which already has the opening
    effect = ticket_work.add_agency(uow(), tid, "core", "section_head-person", cfg)
    assert effect.shared == ("propaganda",)  # cac is on the ticket: nothing again
    ticket = ticket_views.get_ticket(uow(), tid)
    assert ticket is not None and ticket["agencies"] == ["cac", "propaganda"]
    again = ticket_work.add_agency(uow(), tid, "group:core", "section_head-person", cfg)
    assert again.shared == ()
    effect = ticket_work.add_agency(uow(), tid, "group:press", "section_head-person", cfg)
    assert effect.shared == ("media", "govpress")
    opened = [a for a, t in shares_of(uow, tid) if t == "liaison.ticket.opened"]
    assert sorted(opened) == ["cac", "govpress", "media", "propaganda"]  # each exactly once
    ticket = ticket_views.get_ticket(uow(), tid)
    assert ticket is not None
    added = [e["text"] for e in ticket["timeline"] if e["kind"] == "agency.added"]
    assert len(added) == 3 and all("共享组" in t for t in added)


def test_unknown_group_or_agency_is_refused_and_changes_nothing(
        uow: UowFactory, cfg: LiaisonConfig) -> None:
    tid = open_iv(uow, cfg)
    before = shares_of(uow, tid)
    for name in ("group:ghost", "ghost", "group:cac"):
        with pytest.raises(ticket_work.UnknownAgency, match="ghost|cac"):
            ticket_work.add_agency(uow(), tid, name, "x", cfg)
    assert shares_of(uow, tid) == before


def test_meetings_accept_groups(uow: UowFactory, cfg: LiaisonConfig) -> None:
    tid = open_iv(uow, cfg)
    before = len(shares_of(uow, tid))
    meetings.schedule(uow(), tid, "联席会议", T1, ["group:press", "media", "cac"], "x", cfg)
    notices = [a for a, t in shares_of(uow, tid)[before:] if t == "liaison.meeting.scheduled"]
    assert notices == ["media", "govpress", "cac"]


def test_a_meeting_notice_reaches_only_agencies_on_the_ticket_and_backfill_only_invitees(
        uow: UowFactory, cfg: LiaisonConfig) -> None:
    """An invited agency joins the ticket first (with its backfill); an agency that joins later
    never gets the notice of a meeting it was not invited to."""
    tid = open_iv(uow, cfg)  # cac is on the ticket
    opened = shares_of(uow, tid)
    assert {a for a, _ in opened} == {"cac"}
    _, effect = meetings.schedule(uow(), tid, "联席会议", T1, ["media"], "x", cfg)
    after = shares_of(uow, tid)[len(opened):]
    assert after == [("media", t) for _, t in opened] + [("media", "liaison.meeting.scheduled")]
    assert effect.shared == ("media",) * len(after)
    ticket = ticket_views.get_ticket(uow(), tid)
    assert ticket is not None and "media" in {p["party"] for p in ticket["participants"]}
    assert any("受邀参加联席会议" in e["text"] for e in ticket["timeline"]
               if e["kind"] == "agency.added")

    ticket_work.add_agency(uow(), tid, "propaganda", "x", cfg)
    late = [t for a, t in shares_of(uow, tid) if a == "propaganda"]
    assert late and "liaison.meeting.scheduled" not in late
    assert [a for a, t in shares_of(uow, tid) if t == "liaison.meeting.scheduled"] == ["media"]
    with pytest.raises(ticket_work.UnknownAgency, match="group:ghost"):
        meetings.schedule(uow(), tid, "联席会议", T1, ["group:ghost"], "x", cfg)


# --- over HTTP ----------------------------------------------------------------------------------

class FakePlatform:
    def __init__(self, uow: UowFactory) -> None:
        self.uow = uow


class FakeIdentity:
    def authenticate(self, token: str) -> dict[str, str] | None:
        role = token.removesuffix("-token")
        return {"name": f"{role}-person", "role": role} if token.endswith("-token") else None


def request(method: str = "GET", **kwargs: Any) -> Request:
    """A request; a GET carries an editor's token unless `headers` says otherwise."""
    if method == "GET":
        kwargs.setdefault("headers", {"Authorization": "Bearer editor-token"})
    return Request(EnvironBuilder(method=method, path="/", **kwargs).get_environ())


def body(response: tuple[int, dict[str, str], str]) -> tuple[int, Any]:
    return response[0], json.loads(response[2])


def test_directory_and_group_over_http(uow: UowFactory, cfg: LiaisonConfig) -> None:
    service = worker_factory(LiaisonService, platform=FakePlatform(uow), partners=cfg,
                             identity=FakeIdentity())
    agency_directory.seed_with(uow(), cfg, T0)
    status, data = body(service.get_agencies(request()))
    assert status == 200
    assert [a["code"] for a in data["agencies"]] == sorted(cfg.directory)
    assert data["groups"]["core"] == ["cac", "propaganda"]
    status, cac = body(service.get_agency(request(), code="cac"))
    assert status == 200 and cac["kind"] == "cyberspace"
    assert set(cac["groups"]) == {"core", "all_partners"}
    assert body(service.get_agency(request(), code="ghost"))[0] == 404
    assert body(service.get_agencies(request(headers={"Authorization": "Bearer x"})))[0] == 401

    tid = open_iv(uow, cfg)
    hdr = {"Authorization": "Bearer section_head-token"}
    status, data = body(service.add_agency(request("POST", headers=hdr, json={
        "agency": "all_partners"}), ticket_id=tid))
    assert status == 200 and data["backfilled"] == 3  # the AMBER opening, to each newcomer
    assert body(service.add_agency(request("POST", headers=hdr, json={
        "agency": "group:ghost"}), ticket_id=tid))[0] == 400
    with uow() as u:
        n = u.session.execute(select(func.count()).select_from(db.shares).where(
            db.shares.c.event_type == "liaison.ticket.opened")).scalar_one()
    assert n == 4
