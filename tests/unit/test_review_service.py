"""Review entrypoints with nameko's worker_factory: HTTP status codes and bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from civicpulse.envelope import new_event
from services.review import config, handlers
from services.review.service import ReviewService

OK = {"accuracy": True, "orientation": True, "format": True}


class FakePlatform:
    def __init__(self, uow: Any) -> None:
        self.uow = uow


def request(method: str = "GET", path: str = "/", body: Any = None, token: str | None = None,
            query: dict[str, str] | None = None) -> Request:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = json.dumps(body) if body is not None else None
    return Request(EnvironBuilder(method=method, path=path, data=data, headers=headers,
                                  query_string=query, content_type="application/json"
                                  ).get_environ())


def answer(response: tuple[int, dict[str, str], str]) -> tuple[int, Any]:
    return response[0], json.loads(response[2])


@pytest.fixture
def service(uow_factory: Any) -> Any:
    return worker_factory(ReviewService, platform=FakePlatform(uow_factory("review")),
                          config=config.load())


@pytest.fixture
def tokens(service: Any) -> dict[str, str]:
    """Staff tokens as the identity service would answer for them (its RPC is faked here: the
    real one is tested in tests/unit/test_identity_accounts.py and over the broker)."""
    people = {"wang": "section_head", "qian": "leader_in_charge", "zhao": "principal",
              "author": "section_head"}
    known = {f"cps_{n}": {"name": n, "role": r} for n, r in people.items()}
    service.identity.authenticate.side_effect = known.get
    return {n: f"cps_{n}" for n in people}


@pytest.fixture
def case_id(service: Any) -> str:
    service.on_item_submitted(new_event("news.item.submitted", {
        "item_id": "itm-1", "revision": 1, "kind": "article", "title": "人大工作进行时",
        "body": "<p>正文</p>",
        "author": "author", "content_hash": "c" * 64}, correlation_id="itm-1"))
    return handlers.list_cases(service.platform.uow(), {})[0]["id"]


def post(service: Any, case_id: str, body: Any, token: str | None) -> tuple[int, Any]:
    return answer(service.post_decision(request("POST", f"/cases/{case_id}/decisions", body,
                                                token), case_id))


def test_decision_statuses(service: Any, tokens: dict[str, str], case_id: str) -> None:
    approve = {"decision": "approve", "checklist": OK}
    assert post(service, case_id, approve, None)[0] == 401
    assert post(service, case_id, approve, "bogus")[0] == 401
    assert post(service, "case-nope", approve, tokens["wang"])[0] == 404
    assert post(service, case_id, approve, tokens["qian"])[0] == 403
    assert post(service, case_id, approve, tokens["author"])[0] == 403
    assert post(service, case_id, {"decision": "reject"}, tokens["wang"])[0] == 400
    status, body = post(service, case_id, {"decision": "approve", "checklist": {}},
                        tokens["wang"])
    assert status == 400 and "checklist" in body["error"]
    assert post(service, case_id, {"decision": "perhaps"}, tokens["wang"])[0] == 400
    status, body = post(service, case_id, approve, tokens["wang"])
    assert status == 200 and body["stage"] == "leader_in_charge"
    assert post(service, case_id, approve, tokens["qian"])[0] == 200
    status, body = post(service, case_id, approve, tokens["zhao"])
    assert status == 200 and body["status"] == "approved"
    assert post(service, case_id, approve, tokens["zhao"])[0] == 409


def test_reads(service: Any, case_id: str, tokens: dict[str, str]) -> None:
    assert answer(service.get_cases(request()))[0] == 401
    assert answer(service.get_case_http(request(token="bogus"), case_id))[0] == 401
    who = tokens["qian"]
    status, body = answer(service.get_cases(request(query={"status": "open"}, token=who)))
    assert status == 200 and [c["id"] for c in body["cases"]] == [case_id]
    assert answer(service.get_cases(request(query={"stage": "nowhere"}, token=who)))[0] == 400
    status, body = answer(service.get_case_http(request(token=who), case_id))
    assert status == 200 and body["decisions"] == []
    assert answer(service.get_case_http(request(token=who), "case-x"))[0] == 404
    assert service.get_case(case_id)["id"] == case_id
    assert service.get_case("case-x") is None
    json.dumps(service.get_case(case_id))  # RPC results must serialise


def test_metrics_and_health(service: Any, case_id: str) -> None:
    status, _, text = service.metrics(request())
    assert status == 200 and "civicpulse_review_cases_open 1.0" in text
    assert answer(service.healthz(request()))[1]["service"] == "review"


def test_every_request_asks_identity(service: Any, tokens: dict[str, str],
                                     case_id: str) -> None:
    """No cache between a reviewer and a decision: each request asks identity again, so a
    disabled account or an ended session cannot approve a moment later."""
    service.identity.authenticate.reset_mock()
    for _ in range(2):
        assert answer(service.get_case_http(request(token=tokens["qian"]), case_id))[0] == 200
    assert service.identity.authenticate.call_count == 2
    service.identity.authenticate.side_effect = ConnectionError("identity is down")
    status, body = answer(service.get_case_http(request(token=tokens["qian"]), case_id))
    assert status == 503 and "identity" in body["error"]


def test_blocking_findings_answer_422_with_the_findings(service: Any,
                                                       tokens: dict[str, str]) -> None:
    service.on_item_submitted(new_event("news.item.submitted", {
        "item_id": "itm-2", "revision": 1, "kind": "article", "title": "2023年工作要点",
        "body": '<p>机密</p><a href="javascript:x">链接</a>', "author": "author",
        "content_hash": "d" * 64}, correlation_id="itm-2"))
    case_id = handlers.list_cases(service.platform.uow(), {"item_id": "itm-2"})[0]["id"]
    status, body = answer(service.get_case_http(request(token=tokens["wang"]), case_id))
    assert status == 200 and body["blocked"] is True
    assert {f["rule"] for f in body["findings"]} == {"lexicon", "malformed_link",
                                                     "outdated_reference"}
    status, body = post(service, case_id, {"decision": "approve", "checklist": OK},
                        tokens["wang"])
    assert status == 422 and {f["rule"] for f in body["findings"]} == {"lexicon",
                                                                       "malformed_link"}
    assert post(service, case_id, {"decision": "return", "comment": "删去涉密标识"},
                tokens["wang"])[0] == 200


def test_audit_export_over_http(service: Any, tokens: dict[str, str], case_id: str) -> None:
    post(service, case_id, {"decision": "approve", "checklist": OK}, tokens["wang"])
    assert answer(service.get_audit(request(path="/audit")))[0] == 401
    assert answer(service.get_audit(request(path="/audit", token="bogus")))[0] == 401
    assert answer(service.get_audit(request(path="/audit", token=tokens["qian"],
                                            query={"format": "xml"})))[0] == 400
    status, body = answer(service.get_audit(request(path="/audit", token=tokens["qian"])))
    assert status == 200 and [e["action"] for e in body["entries"]] == ["submitted", "approve"]
    status, headers, text = service.get_audit(request(path="/audit", token=tokens["qian"],
                                                      query={"format": "csv"}))
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert text.splitlines()[2].split(",")[2:4] == ["wang", "approve"]


def test_queue_depth_on_metrics(service: Any, case_id: str) -> None:
    text = service.metrics(request())[2]
    assert 'civicpulse_review_queue_depth{stage="section_head"} 1.0' in text
    assert "civicpulse_review_time_in_stage_seconds_bucket" in text or \
        "civicpulse_review_time_in_stage_seconds" in text
