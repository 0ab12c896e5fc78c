"""Review service: nameko entrypoints only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc
from nameko.web.handlers import http

from civicpulse.consumers import handles
from civicpulse.envelope import Envelope
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.web import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    bearer_token,
    json_api,
    load_json,
)
from services.review import config, domain, handlers
from services.review.schemas import CaseFilterSchema, DecisionSchema

MIGRATIONS = Path(__file__).parent / "migrations"


@contextmanager
def _http_errors() -> Iterator[None]:
    """Review refusals as HTTP answers."""
    try:
        yield
    except handlers.UnknownReviewer as exc:
        raise Unauthorized(str(exc)) from exc
    except handlers.CaseNotFound as exc:
        raise NotFound(f"no case {exc}") from exc
    except domain.NotPermitted as exc:
        raise Forbidden(str(exc)) from exc
    except domain.InvalidDecision as exc:
        raise BadRequest(str(exc)) from exc
    except domain.CaseClosed as exc:
        raise Conflict(str(exc)) from exc


class ReviewService(OperationsEndpoints):
    name = "review"
    platform = Platform("review", MIGRATIONS)

    @handles("news.item.submitted")
    def on_item_submitted(self, event: Envelope) -> None:
        handlers.open_case(self.platform.uow(), event, config.load())

    @http("POST", "/cases/<string:case_id>/decisions")
    @json_api
    def post_decision(self, request: Any, case_id: str) -> dict[str, Any]:
        token = bearer_token(request)
        body = load_json(request, DecisionSchema())
        with _http_errors():
            return handlers.decide(self.platform.uow(), case_id, token, body, config.load())

    @http("GET", "/cases")
    @json_api
    def get_cases(self, request: Any) -> dict[str, Any]:
        try:
            filters = CaseFilterSchema().load(request.args.to_dict())
        except ValidationError as exc:
            raise BadRequest("invalid query", fields=exc.messages) from exc
        return {"cases": handlers.list_cases(self.platform.uow(), filters)}

    @http("GET", "/cases/<string:case_id>")
    @json_api
    def get_case_http(self, request: Any, case_id: str) -> dict[str, Any]:
        with _http_errors():
            return handlers.get_case(self.platform.uow(), case_id)

    @rpc
    def get_case(self, case_id: str) -> dict[str, Any] | None:
        try:
            return handlers.get_case(self.platform.uow(), case_id)
        except handlers.CaseNotFound:
            return None

    @rpc
    def authenticate(self, token: str) -> dict[str, str] | None:
        """Who a staff bearer token belongs to: {"name", "role"}, or None (other services ask)."""
        return handlers.authenticate(self.platform.uow(), token)

    def before_scrape(self) -> None:
        handlers.refresh_open_gauge(self.platform.uow())
