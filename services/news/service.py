"""News service: nameko entrypoints only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc
from nameko.web.handlers import http
from werkzeug.utils import safe_join

from civicpulse.consumers import handles
from civicpulse.envelope import Envelope
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.web import BadRequest, Conflict, NotFound, json_api, json_response, load_json
from services.news import config, domain, handlers
from services.news.channels import WebsiteChannel
from services.news.schemas import ItemFilterSchema, ItemSchema, RevisionSchema, SubmitSchema

MIGRATIONS = Path(__file__).parent / "migrations"


@contextmanager
def _http_errors() -> Iterator[None]:
    """Domain refusals as HTTP answers."""
    try:
        yield
    except handlers.ItemNotFound as exc:
        raise NotFound(f"no item {exc}") from exc
    except domain.NewsError as exc:
        raise Conflict(str(exc)) from exc


def _website() -> WebsiteChannel:
    cfg = config.load()
    return WebsiteChannel(cfg.site_dir, cfg.site_url)


def _query(request: Any, schema: Any) -> dict[str, Any]:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise BadRequest("invalid query", fields=exc.messages) from exc


class NewsService(OperationsEndpoints):
    name = "news"
    platform = Platform("news", MIGRATIONS)

    @handles("liaison.statement.requested")
    def on_statement_requested(self, event: Envelope) -> None:
        handlers.draft_statement(self.platform.uow(), event)

    @handles("review.case.approved")
    def on_case_approved(self, event: Envelope) -> None:
        handlers.on_case_approved(self.platform.uow(), event, _website())

    @handles("review.case.returned")
    def on_case_returned(self, event: Envelope) -> None:
        handlers.on_case_returned(self.platform.uow(), event)

    @handles("review.case.rejected")
    def on_case_rejected(self, event: Envelope) -> None:
        handlers.on_case_rejected(self.platform.uow(), event)

    @http("POST", "/items")
    @json_api
    def post_item(self, request: Any) -> tuple[int, dict[str, Any]]:
        return 201, handlers.create_item(self.platform.uow(), load_json(request, ItemSchema()))

    @http("POST", "/items/<string:item_id>/revisions")
    @json_api
    def post_revision(self, request: Any, item_id: str) -> tuple[int, dict[str, Any]]:
        body = load_json(request, RevisionSchema())
        with _http_errors():
            return 201, handlers.revise_item(self.platform.uow(), item_id, **body)

    @http("POST", "/items/<string:item_id>/submit")
    @json_api
    def post_submit(self, request: Any, item_id: str) -> tuple[int, dict[str, Any]]:
        body = load_json(request, SubmitSchema()) if request.get_data() else {}
        with _http_errors():
            return 202, handlers.submit_item(self.platform.uow(), item_id,
                                             body.get("workflow", "default"))

    @http("GET", "/items")
    @json_api
    def get_items(self, request: Any) -> dict[str, Any]:
        filters = _query(request, ItemFilterSchema())
        return {"items": handlers.list_items(self.platform.uow(), filters)}

    @http("GET", "/items/<string:item_id>")
    @json_api
    def get_item_http(self, request: Any, item_id: str) -> dict[str, Any]:
        with _http_errors():
            return handlers.get_item(self.platform.uow(), item_id)

    @http("GET", "/site/<string:name>")
    def site_page(self, request: Any, name: str) -> tuple[int, dict[str, str], str]:
        path = safe_join(str(config.load().site_dir), name)
        if path is None or not name.endswith(".html") or not Path(path).is_file():
            return json_response(404, {"error": "no such page"})
        return 200, {"Content-Type": "text/html; charset=utf-8"}, Path(path).read_text("utf-8")

    @rpc
    def get_item(self, item_id: str) -> dict[str, Any] | None:
        return _or_none(lambda: handlers.get_item(self.platform.uow(), item_id))



def _or_none(fn: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return fn()
    except handlers.ItemNotFound:
        return None
