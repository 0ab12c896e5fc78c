"""News service: nameko entrypoints only."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc
from werkzeug.utils import safe_join

from civicpulse import records as period_records
from civicpulse.access import PUBLIC, STAFF, Access, StaffFromIdentity, caller, http, staff_may
from civicpulse.config import Config
from civicpulse.consumers import handles
from civicpulse.envelope import Envelope, utcnow
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.timers import every
from civicpulse.web import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    json_api,
    json_response,
    load_json,
)
from services.news import (
    domain,
    interaction,
    items,
    metrics,
    plan,
    preview,
    queue,
    queue_view,
    records,
    review_outcomes,
    statements,
    sweep,
)
from services.news.config import NewsConfig, pseudonym_key
from services.news.config import load as load_news_config
from services.news.schemas import (
    CommentQuerySchema,
    CommentSchema,
    EmbargoSchema,
    ItemFilterSchema,
    ItemSchema,
    LinkSchema,
    MonthQuerySchema,
    NoteSchema,
    PlanEntrySchema,
    PreviewQuerySchema,
    QueueQuerySchema,
    ReplySchema,
    RevisionSchema,
    StatsSchema,
    SubmitSchema,
    ThemeSchema,
)

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)



def load_config() -> NewsConfig:
    """The service's configuration, loaded when its container sets up. With
    CIVICPULSE_ENV=production a missing or default commenters' pseudonym key, or secret of a
    webhook channel that has a URL, stops the container there."""
    pseudonym_key()
    return load_news_config()


def can(action: str) -> Access:
    """A staff token whose role news's `domain.may` allows `action` on items."""
    return staff_may(action, domain.may)


def _authorize(who: dict[str, str], actions: tuple[str, ...]) -> None:
    """403 naming the first of `actions` (beyond the endpoint's own) the caller's role lacks."""
    role = who.get("role")
    for action in actions:
        if not domain.may(role, action):
            raise Forbidden(f"role {role!r} may not {action.replace('_', ' ')} items",
                            role=role, action=action)


@contextmanager
def _http_errors() -> Iterator[None]:
    """Domain refusals as HTTP answers."""
    try:
        yield
    except (items.ItemNotFound, plan.ThemeNotFound, interaction.CommentNotFound,
            preview.RevisionNotFound) as exc:
        raise NotFound(f"not found: {exc}") from exc
    except domain.NewsError as exc:
        raise Conflict(str(exc)) from exc


def _query(request: Any, schema: Any) -> dict[str, Any]:
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as exc:
        raise BadRequest("invalid query", fields=exc.messages) from exc


class NewsService(StaffFromIdentity, OperationsEndpoints):
    name = "news"
    platform = Platform("news", MIGRATIONS)
    config = Config(load_config)  # columns, channels, queue, expiry, timers: loaded at start

    def before_scrape(self) -> None:
        depth = queue.queue_depth(self.platform.uow())
        failing = queue.failing_since(self.platform.uow())
        now = utcnow()
        for channel in self.config.channels:
            metrics.publication_queue.labels(channel).set(depth.get(channel, 0))
            since = failing.get(channel)
            metrics.channel_failing.labels(channel).set(
                (now - since).total_seconds() if since else 0)
        interaction.refresh_gauges(self.platform.uow())

    def _deliver(self) -> None:
        queue.deliver_due(self.platform.uow(), self.config)

    # --- events ---------------------------------------------------------------------------

    @handles("liaison.statement.requested")
    def on_statement_requested(self, event: Envelope) -> None:
        statements.draft_statement(self.platform.uow(), event)

    @handles("review.case.approved")
    def on_case_approved(self, event: Envelope) -> None:
        review_outcomes.on_case_approved(self.platform.uow(), event, self.config)
        self._deliver()

    @handles("review.case.returned")
    def on_case_returned(self, event: Envelope) -> None:
        review_outcomes.on_case_returned(self.platform.uow(), event)

    @handles("review.case.rejected")
    def on_case_rejected(self, event: Envelope) -> None:
        review_outcomes.on_case_rejected(self.platform.uow(), event)

    # --- timers ---------------------------------------------------------------------------

    @every("queue_interval")
    def publication_tick(self) -> None:
        """Release embargoed items that are due, then attempt due channel deliveries."""
        items.release_due(self.platform.uow(), self.config)
        self._deliver()

    @every("sweep_interval")
    def expiry_sweep(self) -> None:
        cfg = self.config
        done = sweep.sweep(self.platform.uow(), cfg)
        interaction.purge_comments(self.platform.uow(), cfg.comment_retention_days)
        interaction.flag_overdue_comments(self.platform.uow())
        if done["notified"] or done["expired"]:
            log.info("expiry sweep: %d notified, %d expired", len(done["notified"]),
                     len(done["expired"]))

    # --- items ----------------------------------------------------------------------------

    @http("POST", "/items", access=can("create"), body=ItemSchema)
    @json_api
    def post_item(self, request: Any) -> tuple[int, dict[str, Any]]:
        who = caller(request)
        body = load_json(request, ItemSchema())
        _authorize(who, domain.create_actions(body))
        return 201, items.create_item(self.platform.uow(), {**body, "author": who["name"]})

    @http("POST", "/items/<string:item_id>/revisions", access=can("edit"), body=RevisionSchema)
    @json_api
    def post_revision(self, request: Any, item_id: str) -> tuple[int, dict[str, Any]]:
        who = caller(request)
        body = load_json(request, RevisionSchema())
        with _http_errors():
            return 201, items.revise_item(self.platform.uow(), item_id, **body,
                                             author=who["name"])

    @http("POST", "/items/<string:item_id>/submit", access=can("submit"), body=SubmitSchema)
    @json_api
    def post_submit(self, request: Any, item_id: str) -> tuple[int, dict[str, Any]]:
        body = load_json(request, SubmitSchema()) if request.get_data() else {}
        with _http_errors():
            return 202, items.submit_item(self.platform.uow(), item_id,
                                             body.get("workflow", "default"))

    @http("POST", "/items/<string:item_id>/embargo", access=can("embargo"), body=EmbargoSchema)
    @json_api
    def post_embargo(self, request: Any, item_id: str) -> dict[str, Any]:
        body = load_json(request, EmbargoSchema())
        with _http_errors():
            return items.set_embargo(self.platform.uow(), item_id, body["publish_at"],
                                     self.config)

    @http("POST", "/items/<string:item_id>/corrections", access=can("correct"), body=NoteSchema)
    @json_api
    def post_correction(self, request: Any, item_id: str) -> tuple[int, dict[str, Any]]:
        who = caller(request)
        body = load_json(request, NoteSchema())
        with _http_errors():
            item = items.correct_item(self.platform.uow(), item_id, body["note"], who["name"],
                                         self.config)
        self._deliver()
        return 201, item

    @http("POST", "/items/<string:item_id>/retraction", access=can("retract"), body=NoteSchema)
    @json_api
    def post_retraction(self, request: Any, item_id: str) -> tuple[int, dict[str, Any]]:
        who = caller(request)
        body = load_json(request, NoteSchema())
        with _http_errors():
            item = items.retract_item(self.platform.uow(), item_id, body["note"], who["name"],
                                         self.config)
        self._deliver()
        return 201, item

    @http("POST", "/items/<string:item_id>/restore", access=can("restore"))
    @json_api
    def post_restore(self, request: Any, item_id: str) -> dict[str, Any]:
        with _http_errors():
            item = sweep.restore(self.platform.uow(), item_id, self.config)
        self._deliver()
        return item

    @http("GET", "/items", access=STAFF, query=ItemFilterSchema)
    @json_api
    def get_items(self, request: Any) -> dict[str, Any]:
        filters = _query(request, ItemFilterSchema())
        return {"items": items.list_items(self.platform.uow(), filters)}

    @http("GET", "/items/<string:item_id>", access=STAFF)
    @json_api
    def get_item_http(self, request: Any, item_id: str) -> dict[str, Any]:
        with _http_errors():
            return items.get_item(self.platform.uow(), item_id)

    @http("GET", "/items/<string:item_id>/preview", access=STAFF, query=PreviewQuerySchema)
    @json_api
    def get_preview(self, request: Any, item_id: str) -> dict[str, Any]:
        """The item as each channel of its column will render it (nothing is sent)."""
        revision = _query(request, PreviewQuerySchema())["revision"]
        with _http_errors():
            return preview.preview(self.platform.uow(), item_id, self.config, revision)

    @http("GET", "/columns", access=STAFF)
    @json_api
    def get_columns(self, request: Any) -> dict[str, Any]:
        """The configured columns with their channels and maximum age (for editors' forms)."""
        cfg = self.config
        return {"columns": [{"name": c.name, "channels": list(c.channels),
                             "max_age_days": c.max_age_days} for c in cfg.columns.values()],
                "channels": {n: {"enabled": c.enabled} for n, c in cfg.channels.items()}}

    @http("GET", "/queue", access=STAFF, query=QueueQuerySchema)
    @json_api
    def get_queue(self, request: Any) -> dict[str, Any]:
        """The publication queue per channel with each delivery's retry state."""
        q = _query(request, QueueQuerySchema())
        return queue_view.listing(self.platform.uow(), self.config, q["channel"], q["all"])

    @http("GET", "/records", access=can("records"))
    @json_api
    def get_records(self, request: Any) -> dict[str, Any]:
        """Plan entries due and comments received in a period (admin only), for reports."""
        since, until = period_records.period_of(request)
        return records.period_records(self.platform.uow(), since, until)

    @http("GET", "/archive", access=STAFF)
    @json_api
    def get_archive(self, request: Any) -> dict[str, Any]:
        return {"archive": sweep.archived(self.platform.uow())}

    @http("GET", "/notifications", access=STAFF)
    @json_api
    def get_notifications(self, request: Any) -> dict[str, Any]:
        recipient = request.args.get("recipient")
        return {"notifications": sweep.notifications(self.platform.uow(), recipient)}

    # --- publicity plan -------------------------------------------------------------------

    @http("GET", "/plan", access=STAFF, query=MonthQuerySchema)
    @json_api
    def get_plan(self, request: Any) -> dict[str, Any]:
        month = _query(request, MonthQuerySchema())["month"]
        return plan.month_plan(self.platform.uow(), month)

    @http("POST", "/plan/themes", access=can("plan"), body=ThemeSchema)
    @json_api
    def post_theme(self, request: Any) -> tuple[int, dict[str, Any]]:
        return 201, plan.add_theme(self.platform.uow(), load_json(request, ThemeSchema()))

    @http("POST", "/plan/themes/<int:theme_id>/entries", access=can("plan"), body=PlanEntrySchema)
    @json_api
    def post_plan_entry(self, request: Any, theme_id: int) -> tuple[int, dict[str, Any]]:
        body = load_json(request, PlanEntrySchema())
        with _http_errors():
            return 201, plan.add_entry(self.platform.uow(), theme_id, body)

    @http("POST", "/plan/entries/<int:entry_id>/item", access=can("plan"), body=LinkSchema)
    @json_api
    def post_plan_link(self, request: Any, entry_id: int) -> dict[str, Any]:
        body = load_json(request, LinkSchema())
        with _http_errors():
            plan.link_item(self.platform.uow(), entry_id, body["item_id"])
        return {"entry_id": entry_id, "item_id": body["item_id"]}

    # --- new-media interaction ------------------------------------------------------------

    @http("POST", "/items/<string:item_id>/stats", access=can("stats"), body=StatsSchema)
    @json_api
    def post_stats(self, request: Any, item_id: str) -> dict[str, Any]:
        body = load_json(request, StatsSchema())
        with _http_errors():
            return interaction.record_stats(self.platform.uow(), item_id, body)

    @http("POST", "/comments", access=can("comments"), body=CommentSchema(many=True))
    @json_api
    def post_comments(self, request: Any) -> tuple[int, dict[str, Any]]:
        batch = load_json(request, CommentSchema(many=True))
        if len(batch) > 1000:
            raise BadRequest("at most 1,000 comments per request")
        return 202, interaction.receive_comments(self.platform.uow(), batch, self.config)

    @http("GET", "/comments", access=STAFF, query=CommentQuerySchema)
    @json_api
    def get_comments(self, request: Any) -> dict[str, Any]:
        state = _query(request, CommentQuerySchema())["state"]
        return {"comments": interaction.list_comments(self.platform.uow(), state)}

    @http("POST", "/comments/<int:comment_id>/reply", access=can("reply"), body=ReplySchema)
    @json_api
    def post_reply(self, request: Any, comment_id: int) -> dict[str, Any]:
        who = caller(request)
        body = load_json(request, ReplySchema())
        with _http_errors():
            return interaction.reply(self.platform.uow(), comment_id, body["reply"], who["name"])

    # --- the website, served ------------------------------------------------------------

    @http("GET", "/site/<string:name>", access=PUBLIC)
    def site_page(self, request: Any, name: str) -> tuple[int, dict[str, str], str]:
        path = safe_join(str(self.config.site_dir), name)
        if path is None or not name.endswith(".html") or not Path(path).is_file():
            return json_response(404, {"error": "no such page"})
        return 200, {"Content-Type": "text/html; charset=utf-8"}, Path(path).read_text("utf-8")

    @rpc
    def get_item(self, item_id: str) -> dict[str, Any] | None:
        return _or_none(lambda: items.get_item(self.platform.uow(), item_id))


def _or_none(fn: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return fn()
    except items.ItemNotFound:
        return None
