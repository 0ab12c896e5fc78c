"""Liaison entrypoints with nameko's worker_factory, and the partner topology on memory://."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import kombu
import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import insert
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from civicpulse.db import UnitOfWork
from civicpulse.envelope import new_event, utcnow
from civicpulse.outbox import PARTNER_EXCHANGE
from services.liaison import config, db, partner_accounts, partners
from services.liaison.service import LiaisonService

INC = "inc-svc-1"


class FakePlatform:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self.uow = uow


class FakeIdentity:
    """Stands in for the identity service's `authenticate` RPC: token "<role>-token"."""

    def authenticate(self, token: str) -> dict[str, str] | None:
        role = token.removesuffix("-token")
        return {"name": f"{role}-person", "role": role} if token.endswith("-token") else None


def staff(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {role}-token"}


@pytest.fixture
def service(uow_factory: Callable[[str], Callable[[], UnitOfWork]]) -> Any:
    return worker_factory(LiaisonService, platform=FakePlatform(uow_factory("liaison")),
                          partners=config.load(), identity=FakeIdentity())


def request(method: str = "GET", path: str = "/", **kwargs: Any) -> Request:
    """A request; a GET carries an editor's token unless `headers` says otherwise."""
    if method == "GET":
        kwargs.setdefault("headers", staff("editor"))
    return Request(EnvironBuilder(method=method, path=path, **kwargs).get_environ())


def body(response: tuple[int, dict[str, str], str]) -> tuple[int, Any]:
    return response[0], json.loads(response[2])


def open_one(service: Any) -> str:
    service.on_incident_detected(new_event("sentiment.incident.detected", {
        "incident_id": INC, "topic": "budget", "level": "IV",
        "detected_at": "2025-03-01T09:00:00+00:00", "negative_count": 6, "volume": 8,
        "negative_ratio": 0.75}, correlation_id=INC, tlp="AMBER"))
    status, data = body(service.get_tickets(request(query_string={"incident_id": INC})))
    assert status == 200 and len(data["tickets"]) == 1
    return data["tickets"][0]["id"]


def test_ticket_over_http_and_rpc(service: Any) -> None:
    tid = open_one(service)
    status, ticket = body(service.get_ticket_http(request(), ticket_id=tid))
    assert status == 200
    assert ticket["status"] == "responding" and ticket["agencies"] == ["cac"]
    assert {"timeline", "tasks", "participants", "shares", "deadlines"} <= set(ticket)
    assert service.get_ticket(tid) == ticket
    assert service.get_ticket("tkt-missing") is None
    assert body(service.get_ticket_http(request(), ticket_id="tkt-missing"))[0] == 404


def test_list_filters_are_validated(service: Any) -> None:
    open_one(service)
    assert body(service.get_tickets(request(query_string={"status": "responding"})))[1][
        "tickets"][0]["incident_id"] == INC
    status, data = body(service.get_tickets(request(query_string={"status": "bogus"})))
    assert status == 400 and "status" in data["fields"]


def test_transition_over_http(service: Any) -> None:
    tid = open_one(service)
    post = lambda payload: body(service.transition(  # noqa: E731
        request("POST", json=payload, headers=staff("section_head")), ticket_id=tid))
    assert body(service.transition(request("POST", json={"to": "monitoring"}),
                                   ticket_id=tid))[0] == 401
    assert body(service.transition(request("POST", json={"to": "monitoring"},
                                           headers={"Authorization": "Bearer nobody"}),
                                   ticket_id=tid))[0] == 401
    status, data = body(service.transition(request("POST", json={"to": "monitoring"},
                                                   headers=staff("editor")), ticket_id=tid))
    assert status == 403 and data["role"] == "editor"
    assert post({"to": "monitoring", "by": "李四"})[0] == 200
    status, data = post({"to": "closed"})
    assert status == 409 and data["status"] == "monitoring" and data["to"] == "closed"
    assert post({"to": "sideways"})[0] == 400
    assert post({})[0] == 400
    assert body(service.transition(request("POST", data="{not json",
                                           headers=staff("admin")), ticket_id=tid))[0] == 400
    assert body(service.transition(request("POST", json={"to": "resolved"},
                                           headers=staff("admin")),
                                   ticket_id="tkt-missing"))[0] == 404
    status, data = post({"to": "resolved", "note": "舆情平稳"})
    assert status == 200 and data["status"] == "resolved"
    assert data["facts"]["resolved_at"] is not None
    assert any(e["author"] == "section_head-person" for e in data["timeline"])


def test_staff_work_on_a_ticket(service: Any) -> None:
    tid = open_one(service)
    hdr = staff("leader_in_charge")
    assert body(service.acknowledge(request("POST", headers=hdr), ticket_id=tid))[0] == 200
    assert body(service.assign(request("POST", headers=hdr, json={
        "party": "王五", "role": "commander"}), ticket_id=tid))[0] == 200
    assert body(service.assign(request("POST", headers=hdr, json={
        "party": "王五", "role": "king"}), ticket_id=tid))[0] == 400
    status, made = body(service.add_task(request("POST", headers=staff("editor"), json={
        "title": "起草问答口径", "owner": "新闻宣传处", "due_at": "2030-01-01T10:00:00+08:00"}),
        ticket_id=tid))
    assert status == 201
    assert body(service.update_task(request("POST", headers=staff("editor"), json={
        "status": "done"}), ticket_id=tid, task_id=made["task_id"]))[0] == 200
    assert body(service.update_task(request("POST", headers=staff("editor"), json={
        "status": "done"}), ticket_id=tid, task_id=99999))[0] == 404
    assert body(service.comment(request("POST", headers=staff("editor"), json={
        "text": "已与网信办电话沟通"}), ticket_id=tid))[0] == 201
    ticket = body(service.get_ticket_http(request(headers=hdr), ticket_id=tid))[1]
    note = next(e for e in ticket["timeline"] if e["kind"] == "comment")
    assert not note["pinned"] and note["author"] == "editor-person"
    assert body(service.pin(request("POST", headers=hdr, json={"pinned": True}),
                            ticket_id=tid, entry_id=note["id"]))[0] == 200
    ticket = body(service.get_ticket_http(request(headers=hdr), ticket_id=tid))[1]
    assert next(e for e in ticket["timeline"] if e["id"] == note["id"])["pinned"]
    assert ticket["facts"]["acknowledged_at"] and ticket["facts"]["commander"] == "王五"
    assert {"task.added", "task.updated", "participant.assigned", "ticket.acknowledged"} <= {
        e["kind"] for e in ticket["timeline"]}
    assert any(t["status"] == "done" for t in ticket["tasks"])
    # a bad token on a read is refused; no token reads (the demo's way) still work
    assert body(service.get_ticket_http(request(headers={"Authorization": "Bearer x"}),
                                        ticket_id=tid))[0] == 401


def test_agency_added_later_gets_what_it_missed(service: Any) -> None:
    tid = open_one(service)  # level IV: cac only
    hdr = staff("section_head")
    status, data = body(service.add_agency(request("POST", headers=hdr, json={
        "agency": "media"}), ticket_id=tid))
    assert status == 200 and data["backfilled"] == 1  # the AMBER opening
    assert body(service.add_agency(request("POST", headers=hdr, json={
        "agency": "nobody"}), ticket_id=tid))[0] == 400
    ticket = body(service.get_ticket_http(request(), ticket_id=tid))[1]
    media = [s for s in ticket["shares"] if s["agency"] == "media"]
    assert [s["event_type"] for s in media] == ["liaison.ticket.opened"]
    assert any("补发" in e["text"] for e in ticket["timeline"])
    status, data = body(service.schedule_meeting(request("POST", headers=hdr, json={
        "title": "联席会议", "starts_at": "2030-01-01T15:00:00+08:00",
        "agencies": ["media"]}), ticket_id=tid))
    assert status == 201 and data["shared_with"] == ["media"]
    status, data = body(service.meeting_minutes(request("POST", headers=hdr, json={
        "minutes": "议定两项", "decisions": [
            {"title": "统一口径", "owner": "propaganda", "due_at": "2030-01-02T10:00:00+08:00"},
            {"title": "媒体吹风", "owner": "media", "due_at": "2030-01-02T12:00:00+08:00"}]}),
        meeting_id=data["meeting_id"]))
    assert status == 200 and len(data["task_ids"]) == 2
    ticket = body(service.get_ticket_http(request(), ticket_id=tid))[1]
    assert ticket["meetings"][0]["minutes"] == "议定两项"
    assert {"统一口径", "媒体吹风"} <= {t["title"] for t in ticket["tasks"]}


def test_partner_ack_and_comment(service: Any, ) -> None:
    tid = open_one(service)
    uow = service.platform.uow
    with uow() as u:
        for agency in ("cac", "govpress"):
            u.session.execute(insert(db.partner_accounts).values(
                agency=agency, amqp_user=f"partner-{agency}",
                token_sha256=partner_accounts.hash_token(f"tok-{agency}"), created_at=utcnow()))
        u.commit()
    cac = {"Authorization": "Bearer tok-cac"}
    assert body(service.partner_ack(request("POST", headers=cac), ticket_id=tid))[0] == 201
    assert body(service.partner_comment(request("POST", headers=cac, json={
        "text": "已安排网评引导"}), ticket_id=tid))[0] == 201
    assert body(service.partner_comment(request("POST", headers=cac, json={}),
                                        ticket_id=tid))[0] == 400
    # govpress: GREEN shares only so far, nothing of this AMBER ticket
    assert body(service.partner_ack(request("POST", headers={
        "Authorization": "Bearer tok-govpress"}), ticket_id=tid))[0] == 403
    assert body(service.partner_ack(request("POST", headers={
        "Authorization": "Bearer staff-token"}), ticket_id=tid))[0] == 401
    assert body(service.partner_ack(request("POST", headers=cac),
                                    ticket_id="tkt-missing"))[0] == 404
    ticket = body(service.get_ticket_http(request(), ticket_id=tid))[1]
    notes = [e for e in ticket["timeline"] if e["kind"].startswith("partner.")]
    assert [e["kind"] for e in notes] == ["partner.ack", "partner.comment"]
    assert {e["author"] for e in notes} == {"partner:cac"} and "已安排网评引导" in notes[1]["text"]


def test_review_report_for_a_closed_ticket(service: Any) -> None:
    tid = open_one(service)
    hdr = staff("principal")
    assert service.review_md(request(), ticket_id=tid)[0] == 409  # not closed yet
    for to in ("monitoring", "resolved", "closed"):
        assert body(service.transition(request("POST", headers=hdr, json={"to": to}),
                                       ticket_id=tid))[0] == 200
    assert body(service.lessons(request("PUT", headers=hdr, json={
        "lessons": "首次回应偏慢"}), ticket_id=tid))[0] == 200
    md = service.review_md(request(), ticket_id=tid)
    assert md.status_code == 200 and md.content_type.startswith("text/markdown")
    text = md.get_data(as_text=True)
    assert "首次回应偏慢" in text and "| 签收 |" in text and "![" in text
    png = service.review_png(request(), ticket_id=tid)
    assert png.status_code == 200 and png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
    assert service.review_md(request(), ticket_id="tkt-missing")[0] == 404


def test_health(service: Any) -> None:
    assert body(service.healthz(request()))[1] == {"status": "ok", "service": "liaison"}
    assert service.metrics(request())[0] == 200


def test_partner_topology_on_memory_transport() -> None:
    code = f"t{uuid.uuid4().hex[:8]}"
    names = partners.declare_partner_topology("memory://", [code])
    assert names == [f"partner.{code}"]
    with kombu.Connection("memory://") as conn:
        exchange = kombu.Exchange(PARTNER_EXCHANGE, type="direct", durable=True)
        kombu.Producer(conn.channel()).publish({"hello": code}, exchange=exchange,
                                               routing_key=code, serializer="json")
        queue = kombu.Queue(f"partner.{code}", exchange=exchange, routing_key=code)
        message = queue(conn.channel()).get(no_ack=True)
    assert message is not None and message.payload == {"hello": code}
