import json

import pytest

from civicpulse import contracts
from civicpulse.envelope import new_event, parse
from civicpulse.errors import ContractViolation, MalformedMessage, UnknownEventType, UnknownVersion


def _event(**payload):
    base = {"item_id": "i1", "revision": 1, "kind": "article", "title": "t"}
    return new_event("news.item.expired", {**base, **payload}, correlation_id="c1")


def test_round_trip_keeps_every_field():
    ev = _event()
    back = parse(ev.to_json())
    assert back == ev
    assert back.producer == "news" and back.version == 1 and back.tlp == "GREEN"


def test_added_fields_are_tolerated_and_kept():
    data = json.loads(_event().to_json())
    data["payload"]["new_field"] = 7
    data["unknown_top_level"] = "x"
    assert parse(json.dumps(data)).payload["new_field"] == 7


def test_causation_links_to_the_cause():
    cause = _event()
    ev = new_event("news.item.expired", dict(cause.payload), correlation_id=cause.correlation_id,
                   caused_by=cause)
    assert ev.causation_id == cause.id and ev.id != cause.id


@pytest.mark.parametrize("raw, error", [
    (b"not json", MalformedMessage),
    (b"[1, 2]", MalformedMessage),
    (b'{"id": "x"}', ContractViolation),
])
def test_bad_bodies_are_permanent_errors(raw, error):
    with pytest.raises(error):
        parse(raw)


def test_payload_must_match_its_contract():
    data = json.loads(_event().to_json())
    del data["payload"]["title"]
    with pytest.raises(ContractViolation):
        parse(json.dumps(data))


def test_unknown_type_and_version():
    data = json.loads(_event().to_json())
    with pytest.raises(UnknownVersion):
        parse(json.dumps({**data, "version": 99}))
    with pytest.raises(UnknownEventType):
        parse(json.dumps({**data, "type": "news.item.teleported"}))


def test_tlp_is_validated():
    data = json.loads(_event().to_json())
    with pytest.raises(ContractViolation):
        parse(json.dumps({**data, "tlp": "PURPLE"}))


def test_every_architecture_event_has_a_contract():
    expected = {
        "sentiment.incident.detected", "sentiment.incident.escalated",
        "sentiment.incident.subsided", "sentiment.incident.closed",
        "liaison.ticket.opened", "liaison.ticket.acknowledged", "liaison.ticket.escalated",
        "liaison.ticket.resolved", "liaison.ticket.closed", "liaison.statement.requested",
        "liaison.meeting.scheduled", "news.item.submitted", "news.item.published",
        "news.item.retracted", "news.item.expired", "review.case.opened",
        "review.stage.approved", "review.case.approved", "review.case.returned",
        "review.case.rejected", "review.stage.overdue",
    }
    assert expected <= set(contracts.known_types())
