"""Sentiment service: nameko entrypoints only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import rpc

from civicpulse.access import COLLECTOR, STAFF, StaffFromIdentity, caller, http, staff_may
from civicpulse.config import Config
from civicpulse.operations import OperationsEndpoints
from civicpulse.runtime import Platform
from civicpulse.timers import every
from civicpulse.web import BadRequest, NotFound, json_api, load_json
from services.sentiment import collectors, domain, handlers, scoring
from services.sentiment.batch_consumer import consume_batches
from services.sentiment.config import SentimentConfig
from services.sentiment.config import load as load_config
from services.sentiment.reports import http as report_http
from services.sentiment.schemas import (
    MAX_BATCH,
    MAX_BATCH_BYTES,
    IncidentQuerySchema,
    MentionSchema,
)

MIGRATIONS = Path(__file__).parent / "migrations"
MENTIONS_QUEUE = "sentiment.mentions"


def _ingest(platform: Any, cfg: SentimentConfig, items: list[Any], path: str,
            collector: str | None = None) -> dict[str, Any]:
    return handlers.ingest_raw(platform.uow(), items, cfg=cfg, scorer=scoring.load(),
                               path=path, collector=collector)


class SentimentService(StaffFromIdentity, OperationsEndpoints):
    name = "sentiment"
    platform = Platform("sentiment", MIGRATIONS)
    config = Config(load_config)  # topics, detection, feeds, timers: loaded at start

    def before_scrape(self) -> None:
        handlers.refresh_open_gauge(self.platform.uow())

    def authenticate_collector(self, token: str) -> dict[str, str] | None:
        name = collectors.authenticate(self.platform.uow(), token)
        return None if name is None else {"collector": name}

    @http("POST", "/mentions", access=COLLECTOR, max_body=MAX_BATCH_BYTES,
          body=MentionSchema(many=True))
    @json_api
    def post_mentions(self, request: Any) -> tuple[int, dict[str, Any]]:
        body = load_json(request)
        if not isinstance(body, list) or not 1 <= len(body) <= MAX_BATCH:
            raise BadRequest(f"body must be a JSON array of 1..{MAX_BATCH} mentions")
        summary = _ingest(self.platform, self.config, body, "http",
                          caller(request)["collector"])
        accepted_any = summary["accepted"] or summary["duplicates"]
        return (202 if accepted_any else 400), summary

    @consume_batches(MENTIONS_QUEUE, max_messages=1000, max_wait_ms=200)
    def consume_mentions(self, items: list[Any]) -> dict[str, Any]:
        """Collectors' work queue: one mention (JSON object) per message, handled in batches;
        the rejected ones are dead-lettered by the consumer with their errors."""
        return _ingest(self.platform, self.config, items, "amqp")

    @http("GET", "/incidents", access=STAFF, query=IncidentQuerySchema)
    @json_api
    def get_incidents(self, request: Any) -> dict[str, Any]:
        """Newest first; `evidence=false` leaves out each incident's evidence; a page with
        `limit`/`offset`; `total` and `by_level` count every match, the page aside."""
        try:
            q = IncidentQuerySchema().load(request.args.to_dict())
        except ValidationError as exc:
            raise BadRequest("invalid query", fields=exc.messages) from exc
        cfg = self.config
        found = handlers.list_incidents(self.platform.uow(), q["status"], level=q["level"],
                                        evidence=q["evidence"], limit=q["limit"],
                                        offset=q["offset"])
        by_level = handlers.count_incidents(self.platform.uow(), q["status"], q["level"])
        return {"incidents": [{**i, "topic_name": cfg.topic_name(i["topic"])} for i in found],
                "total": sum(by_level.values()), "by_level": by_level}

    @http("GET", "/incidents/<string:incident_id>", access=STAFF)
    @json_api
    def get_incident(self, request: Any, incident_id: str) -> dict[str, Any]:
        """One incident: evidence, sentiment curve, topic's human name, level history."""
        try:
            incident = handlers.get_incident(self.platform.uow(), incident_id)
        except handlers.IncidentNotFound as exc:
            raise NotFound("no such incident", incident_id=incident_id) from exc
        return {**incident, "topic_name": self.config.topic_name(incident["topic"])}

    @http("GET", "/collectors", access=staff_may(
        "list collectors", lambda role, _: domain.may_manage_collectors(role)))
    @json_api
    def get_collectors(self, request: Any) -> dict[str, Any]:
        """Collector credentials (names and dates, never tokens), for administrators."""
        return {"collectors": collectors.listing(self.platform.uow())}

    @http("GET", "/reports/daily", access=STAFF)
    def daily_report(self, request: Any) -> Any:
        return report_http.respond(self.platform.uow(), "daily", request.args)

    @http("GET", "/reports/weekly", access=STAFF)
    def weekly_report(self, request: Any) -> Any:
        return report_http.respond(self.platform.uow(), "weekly", request.args)

    @rpc
    def incidents(self) -> list[dict[str, Any]]:
        return [{k: (str(v) if k.endswith("_at") or k == "status_since" else v)
                 for k, v in i.items()} for i in handlers.list_incidents(self.platform.uow())]

    @every("incident_sweep_seconds")
    def sweep_incidents(self) -> None:
        handlers.sweep(self.platform.uow(), self.config)

    @every("feed_poll_seconds")
    def poll_feeds(self) -> None:
        handlers.poll_feeds(self.platform.uow, self.config, scoring.load())

    @every("purge_seconds")
    def purge_expired_text(self) -> None:
        handlers.purge_expired(self.platform.uow(), self.config.retention_days)

