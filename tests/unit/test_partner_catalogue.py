"""The partner catalogue (AsyncAPI) is generated from the contracts: every partner-visible
contract is a message in it, its schemas are valid JSON Schema that accept the envelopes liaison
builds and reject what a partner must never see, and docs/partners.md shows it as it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from civicpulse import contracts
from civicpulse.envelope import new_event
from services.liaison import catalogue

ROOT = Path(__file__).resolve().parents[2]
SAMPLES: dict[str, dict[str, Any]] = {
    "liaison.ticket.opened": {"level": "III", "topic": "噪音", "title": "t", "lead_section": "s",
                              "agencies": ["cac"], "deadlines": {"acknowledge": "x"}},
    "liaison.ticket.acknowledged": {"by": "王"}, "liaison.ticket.escalated": {"level": "II"},
    "liaison.ticket.resolved": {}, "liaison.ticket.closed": {},
    "liaison.ticket.overdue": {"deadline": "acknowledge", "step": 2, "notify": "partner_lead",
                               "due_at": "2026-01-01T00:00:00Z"},
    "liaison.meeting.scheduled": {"meeting_id": "m1", "starts_at": "2026-01-01T09:00:00+08:00",
                                  "agencies": ["cac"]},
    "liaison.statement.published": {"title": "回应", "url": "https://example.gov.cn/a"},
}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return catalogue.document()


def validator(doc: dict[str, Any], type_: str, version: int) -> jsonschema.Draft7Validator:
    message = doc["components"]["messages"][catalogue.message_id(type_, version)]
    return jsonschema.Draft7Validator({**message["payload"], "components": doc["components"]})


def envelope(type_: str, tlp: str) -> dict[str, Any]:
    payload = {"ticket_id": "tkt-1", "incident_id": "inc-1", "status": "open",
               **SAMPLES[type_]}
    return new_event(type_, payload, correlation_id="inc-1", tlp=tlp).to_dict()


def test_every_partner_visible_contract_is_a_message(doc: dict[str, Any]) -> None:
    visible = {(t, v) for t, v, _ in contracts.partner_visible()}
    assert {(t, 1) for t in SAMPLES} == visible  # a new shared contract needs a sample here
    messages = doc["components"]["messages"]
    assert set(messages) == {catalogue.message_id(t, v) for t, v in visible}
    listed = {r["$ref"].rsplit("/", 1)[1] for r in doc["operations"]["receiveSharedEvent"]
              ["messages"]}
    assert listed == set(messages) == set(doc["channels"]["partnerQueue"]["messages"])
    assert "liaison.statement.requested.v1" not in messages  # office-internal
    assert doc["asyncapi"] == "3.0.0"


@pytest.mark.parametrize("type_", sorted(SAMPLES))
def test_liaison_envelopes_validate_and_red_does_not(doc: dict[str, Any], type_: str) -> None:
    version = contracts.latest_version(type_)
    schema = contracts.contract(type_, version)
    check = validator(doc, type_, version)
    jsonschema.Draft7Validator.check_schema(check.schema)
    for tlp in schema.partner_tlp:  # type: ignore[union-attr]
        check.validate(envelope(type_, tlp))
    assert not check.is_valid(envelope(type_, "RED"))
    first_tlp = schema.partner_tlp[0]  # type: ignore[union-attr]
    payload_schema = doc["components"]["schemas"][
        check.schema["properties"]["payload"]["$ref"].rsplit("/", 1)[1]]
    broken = envelope(type_, first_tlp)
    del broken["payload"][payload_schema["required"][0]]
    assert not check.is_valid(broken)
    assert not check.is_valid({**envelope(type_, first_tlp), "version": version + 1})


def test_the_docs_show_the_catalogue_as_generated(doc: dict[str, Any], tmp_path: Path) -> None:
    copy = tmp_path / "partners.md"
    copy.write_text((ROOT / "docs" / "partners.md").read_text(encoding="utf-8"),
                    encoding="utf-8")
    assert not catalogue.render_into(copy, doc), \
        "docs/partners.md is stale: civicpulse partners catalogue --write-docs docs/partners.md"
